"""The CUDA-graph step (``kdlab.core.graphed``) trains exactly as the eager step: same seed → same weights.

The equality tests need CUDA and are skipped without it; the pieces that run anywhere (a tensor learning rate that
the schedule fills, the refusal to graph on a CPU) are tested on the CPU, and one test shows the weight comparison
fails for a different seed, so the equality is not vacuous.
"""

import copy

import pytest
import torch

from kdlab.core import graphed
from kdlab.core.config import TrainConfig
from kdlab.core.graphed import GraphedStep, lr_value, tensor_lr
from kdlab.core.models import MLP, BatchedMLP
from kdlab.core.optim import lr_factor, make_sgd
from kdlab.core.train import fit

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _digits_like(n: int = 1000, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 784, generator=g)
    y = (x[:, :392].sum(1) > x[:, 392:].sum(1)).long() + 2 * (x[:, ::2].sum(1) > x[:, 1::2].sum(1)).long()
    return x, y


def _train(model, x, y, *, graph: bool, seed: int = 0, teacher=None, jitter: int = 2, device="cuda"):
    torch.manual_seed(seed)  # dropout masks come from the global RNG
    cfg = TrainConfig(epochs=2, batch_size=128, lr=0.05, jitter=0 if teacher is not None else jitter, seed=seed,
                      temperature=4.0, hard_weight=0.5, grad_clip=5.0, progress=False, cuda_graph=graph)  # fmt: skip
    hist = fit(model, x, y, config=cfg, teacher_logits=teacher, device=device)
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}, hist


def test_tensor_lr_follows_the_schedule_like_a_float_lr():
    """The captured update reads the lr from a tensor the schedule fills; on the CPU that path must train exactly as
    a float lr does."""
    x, y = _digits_like(512)
    results = []
    for as_tensor in (False, True):
        torch.manual_seed(0)
        net = MLP(784, [32], 4)
        cfg = TrainConfig(epochs=1, batch_size=64, lr=0.1)
        opt = make_sgd(net, cfg)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor("onecycle", 0.15, 8))
        if as_tensor:
            tensor_lr(opt)
            assert isinstance(opt.param_groups[0]["lr"], torch.Tensor)
        lrs = []
        for i in range(8):
            loss = torch.nn.functional.cross_entropy(net(x[i * 64 : (i + 1) * 64]), y[i * 64 : (i + 1) * 64])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            lrs.append(lr_value(opt))
        results.append((lrs, copy.deepcopy(net.state_dict())))
    assert results[0][0] == pytest.approx(results[1][0])
    for k, v in results[0][1].items():
        torch.testing.assert_close(results[1][1][k], v)


def test_a_graph_needs_cuda():
    with pytest.raises(ValueError, match="CUDA"):
        GraphedStep(lambda x, y, t: x.sum(), torch.device("cpu"))


def test_cpu_fit_ignores_cuda_graph():
    x, y = _digits_like(300)
    model = MLP(784, [32], 4, dropout_hidden=0.5, max_norm=3.0)
    a, _ = _train(copy.deepcopy(model), x, y, graph=True, device="cpu")
    b, _ = _train(copy.deepcopy(model), x, y, graph=False, device="cpu")
    for k in a:
        torch.testing.assert_close(a[k], b[k])


def _count_captures(monkeypatch):
    calls = []
    real = graphed.GraphedStep._capture

    def counting(self, *batch):
        calls.append(1)
        return real(self, *batch)

    monkeypatch.setattr(graphed.GraphedStep, "_capture", counting)
    return calls


@CUDA
@pytest.mark.gpu
@pytest.mark.parametrize("kind", ["teacher", "ensemble", "distilled"])
def test_graphed_step_trains_like_the_eager_step(kind, monkeypatch):
    """Single net with dropout, max-norm and jitter; a 3-member BatchedMLP; a student on soft targets. 1000 cases
    at batch 128 leave a last batch of 104, which runs eagerly between replays."""
    x, y = _digits_like()
    torch.manual_seed(1)
    if kind == "ensemble":
        model = BatchedMLP(3, 784, [64, 64], 4, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.0)
    else:
        model = MLP(784, [64, 64], 4, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.0)
    teacher = torch.randn(len(x), 4) * 3 if kind == "distilled" else None
    captures = _count_captures(monkeypatch)
    eager, h_eager = _train(copy.deepcopy(model), x, y, graph=False, teacher=teacher)
    assert captures == []
    replayed, h_graph = _train(copy.deepcopy(model), x, y, graph=True, teacher=teacher)
    assert captures == [1], "the step was not captured"
    for k in eager:
        torch.testing.assert_close(replayed[k], eager[k], rtol=1e-4, atol=1e-5)
    assert h_graph.train_loss == pytest.approx(h_eager.train_loss, rel=1e-4)
    assert h_graph.lr == pytest.approx(h_eager.lr)


@CUDA
@pytest.mark.gpu
def test_graph_comparison_can_fail(monkeypatch):
    """Another seed (other dropout masks and batches) gives other weights: the comparison above is not vacuous."""
    x, y = _digits_like()
    model = MLP(784, [64], 4, dropout_hidden=0.5)
    a, _ = _train(copy.deepcopy(model), x, y, graph=True, seed=0)
    b, _ = _train(copy.deepcopy(model), x, y, graph=True, seed=1)
    with pytest.raises(AssertionError):
        for k in a:
            torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)
