"""Models: the paper's ReLU MLPs (dropout, max-norm) and ensembles trained as one batched module.

* ``MLP`` — 784-1200-1200-10 teacher (dropout + max-norm, as in Hinton et al. 2012 / Srivastava et al. 2014,
  which the distillation paper cites for its MNIST teacher), 784-800-800-10 students, frame classifiers.
* ``BatchedMLP`` — M identical MLPs whose weights are stacked along a model axis, so one ``baddbmm`` runs every
  member: the whole ensemble trains in a single loop (§4's 10-model ensemble, §5's specialists).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from kdlab.core.precision import Bf16Shadow


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout (Srivastava et al. 2014) with a faster mask on CPU.

    On CPU, ``torch.bernoulli_`` draws one Mersenne-Twister number per element and took ~30 % of a teacher
    step; here one 64-bit draw gives four 15-bit uniforms (drop probability resolved to 1/32768). On other
    devices ``F.dropout`` is already fused and is used as is. Masks come from torch's global RNG either way.
    """
    if not training or p == 0:
        return x
    if x.device.type != "cpu":
        return nn.functional.dropout(x, p, True)
    n = x.numel()
    words = torch.empty(
        (n + 3) // 4, dtype=torch.int64
    ).random_()  # uniform over [0, 2**63): low 15 bits of each lane uniform
    lanes = words.view(torch.int16)[:n].view(x.shape) & 0x7FFF  # (…) uniform integers in [0, 32767]
    threshold = round(p * 32768)
    mask = (lanes >= threshold).to(x.dtype).mul_(32768 / (32768 - threshold))  # a multiply is 4× cheaper than where()
    return x * mask


class MLP(nn.Module):
    """ReLU MLP with input/hidden dropout and an optional max-norm on each unit's incoming weight vector."""

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        num_classes: int,
        dropout_input: float = 0.0,
        dropout_hidden: float = 0.0,
        max_norm: float | None = None,
    ):
        super().__init__()
        _check_dims(in_features, hidden, num_classes, dropout_input, dropout_hidden, max_norm)
        sizes = [in_features, *hidden, num_classes]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.dropout_input = dropout_input
        self.dropout_hidden = dropout_hidden
        self.max_norm = max_norm
        self.widths = (in_features, *hidden, num_classes)
        self.bf16: Bf16Shadow | None = None  # set by fit while it trains in bf16 (kdlab.core.precision)

    def weight_pairs(self) -> list[tuple[nn.Parameter, nn.Parameter]]:
        """(weight, bias) of every layer, input first: what a bf16 shadow copies."""
        return [(layer.weight, layer.bias) for layer in self.layers]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, in) -> (batch, classes), float32
        low = self.bf16 if self.training else None  # evaluation always multiplies the fp32 masters
        x = x.flatten(1) if low is None else x.flatten(1).to(torch.bfloat16)
        if self.dropout_input > 0:
            x = dropout(x, self.dropout_input, self.training)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x) if low is None else low.product(i, x)
            if i < last:
                x = torch.relu(x)
                if self.dropout_hidden > 0:
                    x = dropout(x, self.dropout_hidden, self.training)
        return x if low is None else x.float()  # the loss (softmax at T, T²) is computed in fp32

    @torch.no_grad()
    def apply_max_norm(self) -> None:
        """Rescale every unit's incoming weight vector to L2 norm ≤ max_norm (a projection after each step).

        Every layer, the output layer included: the dropout paper this recipe comes from (the distillation paper's
        reference [5], Hinton et al. 2012) constrains the hidden units' incoming weights; kdlab's teacher profiles
        were tuned (on validation) with the output units constrained too, and keep it that way."""
        if self.max_norm is None:
            return
        for layer in self.layers:  # in place: one read for the norms, one read-write for the scale
            norms = torch.linalg.vector_norm(layer.weight, dim=1, keepdim=True).clamp_min_(1e-12)
            layer.weight.mul_(torch.clamp(self.max_norm / norms, max=1.0))

    @property
    def output_bias(self) -> torch.Tensor:
        """The final layer's bias: notebook 04 shifts it to correct a missing class."""
        return self.layers[-1].bias


class BatchedMLP(nn.Module):
    """M independent MLPs as one module: weights (M, out, in), forward (batch, in) or (M, batch, in) -> (M, batch, classes).

    Members share nothing but the code path; each has its own initialization (same scheme as ``nn.Linear``).
    """

    def __init__(
        self,
        num_models: int,
        in_features: int,
        hidden: Sequence[int],
        num_classes: int,
        dropout_input: float = 0.0,
        dropout_hidden: float = 0.0,
        max_norm: float | None = None,
    ):
        super().__init__()
        if num_models < 1:
            raise ValueError(f"num_models must be ≥ 1, got {num_models}")
        _check_dims(in_features, hidden, num_classes, dropout_input, dropout_hidden, max_norm)
        sizes = [in_features, *hidden, num_classes]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in zip(sizes[:-1], sizes[1:]):
            bound = 1 / math.sqrt(a)  # nn.Linear's default (kaiming_uniform with a=√5 gives the same bound)
            # (M, out, in) like nn.Linear: max-norm reduces over the contiguous axis (7× faster than over `in`
            # in an (M, in, out) layout); the matmul reads it transposed at no cost
            self.weights.append(nn.Parameter(torch.empty(num_models, b, a).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(num_models, 1, b).uniform_(-bound, bound)))
        self.num_models = num_models
        self.dropout_input = dropout_input
        self.dropout_hidden = dropout_hidden
        self.max_norm = max_norm
        self.widths = (in_features, *hidden, num_classes)
        self.bf16: Bf16Shadow | None = None  # set by fit while it trains in bf16 (kdlab.core.precision)

    def weight_pairs(self) -> list[tuple[nn.Parameter, nn.Parameter]]:
        """(weights, biases) of every layer, input first, each with the member axis first."""
        return list(zip(self.weights, self.biases))

    def is_per_member(self, x: torch.Tensor) -> bool:
        """True when ``x`` is (M, batch, in_features): one batch per member. Anything else whose rows flatten to
        ``in_features`` — (batch, in) or (batch, 28, 28) images — is one batch shared by every member. Deciding on
        the shape[0] == M coincidence alone would feed a (10, 28, 28) image batch to a 10-member stack as ten
        per-member batches of 28 rows."""
        return x.dim() == 3 and x.shape[0] == self.num_models and x.shape[2] == self.widths[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.is_per_member(x):
            if x.dim() < 2 or x[0].numel() != self.widths[0]:
                raise ValueError(
                    f"BatchedMLP expects (batch, {self.widths[0]}) inputs shared by the members, or "
                    f"({self.num_models}, batch, {self.widths[0]}) per member; got {tuple(x.shape)}"
                )
            x = x.flatten(1).unsqueeze(0).expand(self.num_models, -1, -1)  # same batch for every member
        low = self.bf16 if self.training else None  # evaluation always multiplies the fp32 masters
        if low is not None:
            x = x.to(torch.bfloat16)
        if self.dropout_input > 0:
            x = dropout(x, self.dropout_input, self.training)
        # Activations run feature-major, h = W·h + b with h (M, features, batch): then the weight gradient
        # (grad · hᵀ) comes out in the weights' own (M, out, in) layout, and autograd does not copy it.
        h = x.transpose(1, 2)  # (M, in, batch)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b.transpose(1, 2), w, h) if low is None else low.product(i, h)  # (M, out, batch)
            if i < last:
                h = torch.relu(h)
                if self.dropout_hidden > 0:
                    h = dropout(h, self.dropout_hidden, self.training)
        h = h.transpose(1, 2)  # (M, batch, classes)
        return h if low is None else h.float()  # the loss is computed in fp32

    @torch.no_grad()
    def apply_max_norm(self) -> None:
        """Max-norm per member and unit: the incoming vector of unit j of member m is w[m, j, :]; every layer, the
        output layer included, as ``MLP.apply_max_norm`` (which says why)."""
        if self.max_norm is None:
            return
        for w in self.weights:
            norms = torch.linalg.vector_norm(w, dim=2, keepdim=True).clamp_min_(1e-12)  # (M, out, 1)
            w.mul_(torch.clamp(self.max_norm / norms, max=1.0))

    @torch.no_grad()
    def member(self, index: int) -> MLP:
        """Copy member ``index`` out as a plain ``MLP`` (e.g. to save or fine-tune one model)."""
        hidden = self.widths[1:-1]
        mlp = MLP(self.widths[0], hidden, self.widths[-1], self.dropout_input, self.dropout_hidden, self.max_norm)
        for layer, w, b in zip(mlp.layers, self.weights, self.biases):
            layer.weight.copy_(w[index])
            layer.bias.copy_(b[index, 0])
        return mlp.to(self.weights[0].device)

    @classmethod
    @torch.no_grad()
    def from_mlps(cls, mlps: Sequence[MLP]) -> BatchedMLP:
        """Stack trained (or initial) MLPs of one architecture into a batched module (e.g. specialists from a generalist)."""
        first = mlps[0]
        out = cls(
            len(mlps),
            first.widths[0],
            first.widths[1:-1],
            first.widths[-1],
            first.dropout_input,
            first.dropout_hidden,
            first.max_norm,
        )
        for i, w in enumerate(out.weights):
            w.copy_(torch.stack([m.layers[i].weight for m in mlps]))
            out.biases[i].copy_(torch.stack([m.layers[i].bias.unsqueeze(0) for m in mlps]))
        return out.to(first.layers[0].weight.device)


def _check_dims(in_features, hidden, num_classes, dropout_input, dropout_hidden, max_norm) -> None:
    if in_features < 1 or num_classes < 1 or any(h < 1 for h in hidden):
        raise ValueError(f"layer sizes must be ≥ 1, got in={in_features}, hidden={list(hidden)}, out={num_classes}")
    for name, p in (("dropout_input", dropout_input), ("dropout_hidden", dropout_hidden)):
        if not 0 <= p < 1:
            raise ValueError(f"{name} must be in [0, 1), got {p}")
    if max_norm is not None and not max_norm > 0:
        raise ValueError(f"max_norm must be > 0 or None, got {max_norm}")
