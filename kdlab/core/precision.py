"""Which precision a training step multiplies in, and the bf16 step for the CPU's matrix units.

Why bf16 at all: a training step of the paper's nets is six matrix products (forward, input gradient, weight
gradient per layer). CPUs with bf16 dot-product instructions (AMX tiles on recent Xeons, AVX512-BF16 on Zen 4 and
Cooper Lake) multiply bf16 matrices at 2× (AVX512-BF16) to 5× (AMX) their fp32 rate, and bf16 keeps fp32's 8-bit
exponent, so nothing overflows where fp32 would not. ``TrainConfig.precision`` chooses:

* ``"fp32"`` — every tensor float32 (the path kdlab always had);
* ``"bf16"`` — the matrix products in bf16 (below);
* ``"auto"`` — bf16 on a CPU that has bf16 matrix instructions (``cpu_has_bf16_matmul``, detected from the CPU's
  flags, never guessed), fp32 on other CPUs; CUDA keeps fp32 (its own choice: TF32 where torch enables it).

Which tensors are bf16 in the bf16 step, and why:

* **bf16**: a copy of each weight matrix and bias (the *shadow*, refreshed once per step after the fused SGD update
  and the max-norm projection, instead of casting the weights inside every product); the input batch, the hidden
  activations, the dropout masks applied to them, and the gradients flowing back through them. These are the
  operands of the matrix products, where bf16 buys speed.
* **fp32**: the master weights and biases that SGD updates (an update of lr·g is often below bf16's 8-bit mantissa
  resolution of a weight, so bf16 masters would stall), their gradients (each weight gradient is a bf16 product
  cast once to fp32; bias gradients are summed in fp32), the momentum buffers, the max-norm projection, the
  logits handed to the loss, and the loss itself: the softmax at temperature T (eq. 1), the soft cross-entropy
  and its T² factor (§2), whose small probabilities bf16 would round away. Evaluation runs on the fp32 masters.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

PRECISIONS = ("auto", "fp32", "bf16")
CPU_BF16_ENV = "KDLAB_CPU_BF16"  # "0" forces the detection off (tests; a CPU whose bf16 is slow), "1" forces it on
BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of the two bf16 matrix instruction sets


def check_precision(precision: object) -> str:
    """``precision`` if it is one of ``PRECISIONS``; a one-line ValueError otherwise."""
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    return precision


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (Linux); empty where there is no such file."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_bf16_matmul() -> bool:
    """True when this CPU has bf16 matrix instructions (AMX-BF16 or AVX512-BF16) that torch's bf16 GEMM uses.

    ``KDLAB_CPU_BF16=0`` (or ``1``) overrides the detection, so tests can take the path of a CPU without them.
    Detected from the kernel's flags: torch 2.13 exposes no public query for AVX512-BF16, and
    ``torch.backends.cpu.get_cpu_capability()`` reports only the vector width (``AVX512``).
    """
    forced = os.environ.get(CPU_BF16_ENV)
    if forced is not None and forced.strip() in ("0", "1"):
        return forced.strip() == "1"
    return bool(cpu_flags() & set(BF16_FLAGS))


_AUTO = ["auto"]  # what "auto" means in this process: set only by set_auto_precision (a notebook's PRECISION)


def set_auto_precision(precision: str) -> None:
    """Make every ``TrainConfig(precision="auto")`` of this process train in ``precision``; ``"auto"`` restores
    the detection. A notebook's ``PRECISION`` parameter comes in here (``kdlab.lab.Lab.device``), so the one
    choice reaches every recipe of the lesson, including those that build their TrainConfig inside a lesson
    function; a config that names ``"fp32"`` or ``"bf16"`` itself is left as it says."""
    _AUTO[0] = check_precision(precision)


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``"fp32"`` or ``"bf16"``: what a run with this ``precision`` setting multiplies in on ``device``."""
    check_precision(precision)
    if precision == "auto":
        precision = _AUTO[0]
    if precision != "auto":
        return precision
    if torch.device(device).type == "cpu" and cpu_has_bf16_matmul():
        return "bf16"
    return "fp32"


class _Bf16Product(torch.autograd.Function):
    """y = b + x·Wᵀ (2-D: an ``nn.Linear``) or y = b + W·h (3-D: a ``BatchedMLP`` layer, h feature-major) with the
    bf16 shadow (w16, b16) as operands; the gradients go to the fp32 masters (w, b), cast once per product.

    Written out rather than left to autograd because autograd's weight gradient of a cast weight can come out
    transposed, and casting a transposed 1200×1200 gradient back to fp32 took 10× a contiguous cast (1.6 ms
    against 0.14 ms on one core): here the weight gradient is one product whose result is laid out like w."""

    @staticmethod
    def forward(ctx, x, w, b, w16, b16):
        x16 = x.to(torch.bfloat16)
        ctx.save_for_backward(x16, w16)
        if w16.dim() == 2:  # x (batch, in), w (out, in), b (out,)
            return torch.addmm(b16, x16, w16.t())
        return torch.baddbmm(b16.transpose(1, 2), w16, x16)  # x (M, in, batch), w (M, out, in), b (M, 1, out)

    @staticmethod
    def backward(ctx, grad):
        x16, w16 = ctx.saved_tensors
        grad = grad.to(torch.bfloat16)
        if w16.dim() == 2:
            gx = grad @ w16 if ctx.needs_input_grad[0] else None  # (batch, in)
            gw = (grad.t() @ x16).float()  # (out, in), contiguous like w
            gb = grad.float().sum(0)
        else:
            gx = torch.bmm(w16.transpose(1, 2), grad) if ctx.needs_input_grad[0] else None  # (M, in, batch)
            gw = torch.bmm(grad, x16.transpose(1, 2)).float()  # (M, out, in)
            gb = grad.float().sum(2).unsqueeze(1)  # (M, 1, out)
        return gx, gw, gb, None, None


class Bf16Shadow:
    """bf16 copies of a model's weights and biases, used by its forward while training and refreshed from the fp32
    masters by ``refresh()`` after every optimizer step (``kdlab.core.train.fit`` does both)."""

    def __init__(self, pairs: Sequence[tuple[torch.nn.Parameter, torch.nn.Parameter]]) -> None:
        self.masters = [t for pair in pairs for t in pair]
        self.copies = [t.detach().to(torch.bfloat16) for t in self.masters]

    @torch.no_grad()
    def refresh(self) -> None:
        """Copy the fp32 masters into the bf16 shadow: one contiguous cast per tensor (~0.14 ms for 1200×1200)."""
        for low, master in zip(self.copies, self.masters):
            low.copy_(master)

    def product(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Layer ``i``'s affine map of ``x`` with the shadow as operands (``_Bf16Product``); bf16 out."""
        w, b = self.masters[2 * i], self.masters[2 * i + 1]
        return _Bf16Product.apply(x, w, b, self.copies[2 * i], self.copies[2 * i + 1])
