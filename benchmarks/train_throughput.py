"""Training throughput of kdlab's device-resident loop, measured against what a user would otherwise write.

All figures come from one run on one device (named in the output):

1. SGEMM rate of this device (a large float32 matmul, same thread count), and the fp32 and bf16 matrix-multiply
   rates at the paper's shapes (128×784×1200 and 128×1200×1200 forward, 1200×128×1200 a weight gradient) — the
   ceilings of the two precisions;
2. kdlab's ``fit`` loop on the paper's teacher (784-1200-1200-10, dropout, max-norm, ±2 px jitter on the device)
   in fp32 and in bf16 (``TrainConfig.precision``, ``kdlab.core.precision``), interleaved: samples/s and achieved
   FLOP/s as a fraction of the SGEMM rate;
3. the usual alternative: a ``Dataset`` whose ``__getitem__`` jitters one image, fed through a ``DataLoader``,
   same model, optimizer and batch size;
4. an ensemble of M models trained as one ``BatchedMLP`` against the same M models trained one after another.

    python benchmarks/train_throughput.py [--steps 150] [--batch-size 128] [--device auto] [--members 10]
    kdlab bench --device cuda | --json FILE | --device auto --json FILE | --compile      (the same script)

Prints a Markdown table that can be pasted into benchmarks/RESULTS.md; ``--json FILE`` also writes the numbers.
The ensemble (4.) trains in ``--ensemble-precision`` (default ``auto``: bf16 where the CPU multiplies bf16).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import time

import torch
import torch.nn.functional as F

from kdlab.core.config import TrainConfig, resolve_device
from kdlab.core.models import MLP, BatchedMLP
from kdlab.core.precision import cpu_has_bf16_matmul, resolve_precision
from kdlab.core.train import fit
from kdlab.data.mnist import load_mnist

TEACHER = (784, [1200, 1200], 10)
PAPER_SHAPES = ((128, 784, 1200), (128, 1200, 1200), (1200, 128, 1200))  # (m, k, n) of a teacher step's products


def device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} torch threads"


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def sgemm_rate(dev: torch.device, n: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of an n×n×n float32 matmul: the best this device does on the operation training is made of."""
    a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
    for _ in range(3):
        a @ b
    sync(dev)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        sync(dev)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def matmul_rate(dev: torch.device, m: int, k: int, n: int, dtype: torch.dtype, repeats: int = 20) -> float:
    """FLOP/s of an (m×k)·(k×n) product in ``dtype``, best of ``repeats``."""
    a, b = torch.randn(m, k, device=dev).to(dtype), torch.randn(k, n, device=dev).to(dtype)
    for _ in range(3):
        a @ b
    sync(dev)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        sync(dev)
        best = min(best, time.perf_counter() - t)
    return 2 * m * k * n / best


def train_flops_per_sample(widths: tuple[int, ...]) -> float:
    """Forward 2·Σ in·out, backward weight grads 2·Σ in·out, input grads for every layer but the first."""
    macs = [a * b for a, b in zip(widths[:-1], widths[1:])]
    return 2 * sum(macs) + 2 * sum(macs) + 2 * sum(macs[1:])


def bench_fit(x, y, dev, steps, batch_size, members=None, graph: bool = True, compiled: bool = False,
              precision: str = "fp32") -> float:  # fmt: skip
    """Seconds per step of kdlab's fit (the second of two runs, so warm-up is excluded). ``graph``: replay the step
    as a CUDA graph (``TrainConfig.cuda_graph``; CUDA only); ``compiled``: the model through ``torch.compile``;
    ``precision="autocast"``: bf16 by ``torch.autocast`` around the forward (fit's path for modules without a bf16
    shadow) instead of kdlab's shadow weights, for comparison."""
    n = steps * batch_size
    autocast = precision == "autocast"
    cfg = TrainConfig(epochs=1, batch_size=batch_size, lr=0.05, jitter=2, progress=False, cuda_graph=graph,
                      precision="bf16" if autocast else precision)  # fmt: skip
    torch.manual_seed(0)
    if members is None:
        model = MLP(*TEACHER, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.5)
    else:
        model = BatchedMLP(members, *TEACHER, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.5)
    if autocast:  # a wrapper without weight_pairs: fit runs its forward under torch.autocast
        model = AutocastOnly(model)
    if compiled:  # fuses dropout and ReLU; max-norm and SGD stay eager. Compiled once: the first run pays for it
        model.forward = torch.compile(model.forward)
    start = copy.deepcopy(model.state_dict())
    times = []
    for _ in range(2):
        model.load_state_dict(start)
        torch.manual_seed(0)
        sync(dev)
        t = time.perf_counter()
        fit(model, x[:n], y[:n], config=cfg, device=dev)
        sync(dev)
        times.append(time.perf_counter() - t)
    return times[-1] / steps


class AutocastOnly(torch.nn.Module):
    """The teacher without a bf16 shadow (no ``weight_pairs``), so ``fit`` takes its ``torch.autocast`` path."""

    def __init__(self, net: MLP) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def apply_max_norm(self) -> None:
        self.net.apply_max_norm()


class JitterDataset(torch.utils.data.Dataset):
    """What a user would write: one image at a time, jittered in ``__getitem__``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        img = self.images[i].float().div(255.0)
        dy, dx = torch.randint(-2, 3, (2,)).tolist()
        img = torch.roll(F.pad(img, (2, 2, 2, 2)), shifts=(dy, dx), dims=(0, 1))[2:-2, 2:-2]
        return img.reshape(-1), self.labels[i]


def bench_dataloader(images, labels, dev, steps, batch_size, workers) -> float:
    loader = torch.utils.data.DataLoader(
        JitterDataset(images, labels),
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        drop_last=True,
        pin_memory=dev.type == "cuda",
    )
    torch.manual_seed(0)
    model = MLP(*TEACHER, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.5).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    model.train()
    it = iter(loader)
    for _ in range(3):  # warm-up (and worker start-up) excluded
        xb, yb = next(it)
    sync(dev)
    t = time.perf_counter()
    for _ in range(steps):
        xb, yb = next(it)
        xb, yb = xb.to(dev, non_blocking=True), yb.to(dev, non_blocking=True)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.apply_max_norm()
    sync(dev)
    return (time.perf_counter() - t) / steps


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's options (``kdlab bench`` passes every option on to this script)."""
    ap = argparse.ArgumentParser(prog="kdlab bench", description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    ap.add_argument("--members", type=int, default=10)
    ap.add_argument("--ensemble-steps", type=int, default=30)
    ap.add_argument("--ensemble-precision", default="auto", choices=["auto", "fp32", "bf16"])
    ap.add_argument("--repeats", type=int, default=2, help="fp32/bf16 teacher timings, interleaved; best of each")
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers (default: 2 on CPU, 4 on CUDA)")
    ap.add_argument("--compile", action="store_true", help="also time the teacher with torch.compile (slow to build)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    return ap


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    dev = resolve_device(args.device)  # a one-line ValueError without CUDA (handled below, in __main__)
    mnist = load_mnist()
    x, y = mnist.flat("train")
    x, y = x.to(dev), y.to(dev)
    workers = args.workers if args.workers is not None else (4 if dev.type == "cuda" else 2)
    name = device_name(dev)
    print(f"device: {dev} ({name}); torch {torch.__version__}; bf16 matrix instructions: "
          f"{cpu_has_bf16_matmul() if dev.type == 'cpu' else 'n/a (CUDA)'}", flush=True)  # fmt: skip

    peak = sgemm_rate(dev)
    ceilings = {f"{m}x{k}x{n}": {p: matmul_rate(dev, m, k, n, dt) / 1e9 for p, dt in PRECISION_DTYPES.items()}
                for m, k, n in PAPER_SHAPES}  # fmt: skip
    flops = train_flops_per_sample((784, 1200, 1200, 10))
    fit_at = dict(x=x, y=y, dev=dev, steps=args.steps, batch_size=args.batch_size)
    steps = {p: [] for p in ("fp32", "bf16", "autocast")}
    for _ in range(args.repeats):  # interleaved, so a change in the machine's load hits every variant alike
        for p in steps:
            steps[p].append(bench_fit(**fit_at, precision=p))
    step, bf16_step, autocast_step = (min(steps[p]) for p in steps)
    eager_step = bench_fit(**fit_at, graph=False) if dev.type == "cuda" else step
    compiled_step = bench_fit(**fit_at, compiled=True) if args.compile else None
    loader_step = bench_dataloader(
        mnist.train_images, mnist.train_labels, dev, min(args.steps, 100), args.batch_size, workers
    )
    ens_precision = resolve_precision(args.ensemble_precision, dev)
    ens_at = dict(fit_at, steps=args.ensemble_steps, precision=ens_precision)
    ens_step = bench_fit(**ens_at, members=args.members)
    single_step = bench_fit(**ens_at)

    r = {
        "device": name,
        "device_type": dev.type,
        "torch": torch.__version__,
        "batch_size": args.batch_size,
        "sgemm_gflops": peak / 1e9,
        "matmul_gflops": ceilings,
        "kdlab_samples_per_s": args.batch_size / step,
        "kdlab_gflops": flops * args.batch_size / step / 1e9,
        "fraction_of_sgemm": flops * args.batch_size / step / peak,
        "bf16_samples_per_s": args.batch_size / bf16_step,
        "bf16_gflops": flops * args.batch_size / bf16_step / 1e9,
        "bf16_vs_fp32": step / bf16_step,
        "autocast_samples_per_s": args.batch_size / autocast_step,
        "fp32_samples_per_s_each": [args.batch_size / t for t in steps["fp32"]],
        "bf16_samples_per_s_each": [args.batch_size / t for t in steps["bf16"]],
        "autocast_samples_per_s_each": [args.batch_size / t for t in steps["autocast"]],
        "cuda_graph": dev.type == "cuda",
        "eager_samples_per_s": args.batch_size / eager_step,
        "graph_speedup": eager_step / step,
        "compiled_samples_per_s": None if compiled_step is None else args.batch_size / compiled_step,
        "compiled_fraction_of_sgemm": None if compiled_step is None else flops * args.batch_size / compiled_step / peak,
        "dataloader_samples_per_s": args.batch_size / loader_step,
        "speedup_vs_dataloader": loader_step / step,
        "dataloader_workers": workers,
        "ensemble_members": args.members,
        "ensemble_precision": ens_precision,
        "batched_ensemble_s_per_step": ens_step,
        "sequential_ensemble_s_per_step": args.members * single_step,
        "batched_vs_sequential": args.members * single_step / ens_step,
    }
    print_table(r, args, compiled_step is not None)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=2)
    return r


PRECISION_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def print_table(r: dict, args: argparse.Namespace, compiled: bool) -> None:
    """The figures of one run as a Markdown table (benchmarks/RESULTS.md)."""
    B = args.batch_size
    print(
        f"\n| figure | value |\n|---|---|\n| device | {r['device']} |\n| SGEMM rate | {r['sgemm_gflops']:.1f} GFLOP/s |"
    )
    for shape, rate in r["matmul_gflops"].items():
        print(f"| matmul {shape} (ceiling) | fp32 {rate['fp32']:.0f}, bf16 {rate['bf16']:.0f} GFLOP/s |")
    print(
        f"| kdlab teacher fp32 (batch {B}, jitter, dropout, max-norm) | {r['kdlab_samples_per_s']:,.0f} samples/s,"
        f" {r['kdlab_gflops']:.1f} GFLOP/s = {100 * r['fraction_of_sgemm']:.0f} % of SGEMM |"
    )
    print(f"| kdlab teacher bf16, same run | {r['bf16_samples_per_s']:,.0f} samples/s, {r['bf16_gflops']:.1f} GFLOP/s "
          f"→ **{r['bf16_vs_fp32']:.2f}×** fp32 |")  # fmt: skip
    print(f"| same, bf16 by torch.autocast instead of the shadow weights | {r['autocast_samples_per_s']:,.0f} "
          f"samples/s → {r['autocast_samples_per_s'] / r['kdlab_samples_per_s']:.2f}× fp32 |")  # fmt: skip
    if r["device_type"] == "cuda":
        print(f"| same, eager (no CUDA graph) | {r['eager_samples_per_s']:,.0f} samples/s → the graph is "
              f"{r['graph_speedup']:.2f}× faster |")  # fmt: skip
    if compiled:
        print(f"| same, model through torch.compile | {r['compiled_samples_per_s']:,.0f} samples/s = "
              f"{100 * r['compiled_fraction_of_sgemm']:.0f} % of SGEMM |")  # fmt: skip
    print(
        f"| Dataset+DataLoader ({r['dataloader_workers']} workers) | {r['dataloader_samples_per_s']:,.0f} samples/s"
        f" → kdlab is {r['speedup_vs_dataloader']:.2f}× faster |"
    )
    print(
        f"| ensemble of {args.members} teachers ({r['ensemble_precision']}) | batched "
        f"{r['batched_ensemble_s_per_step'] * 1e3:.0f} ms/step vs sequential "
        f"{r['sequential_ensemble_s_per_step'] * 1e3:.0f} ms/step → {r['batched_vs_sequential']:.2f}× |"
    )


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ValueError as e:  # e.g. --device cuda without CUDA: one line, not a traceback
        print(f"kdlab bench: error: {e}", file=sys.stderr)
        sys.exit(2)
