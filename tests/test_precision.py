"""TrainConfig.precision: validation, the CPU's bf16 detection (forced off and on), and the bf16 step — fp32
masters, loss and momentum, gradients close to fp32's, training that works — against the fp32 path."""

import pytest
import torch

from kdlab.core import precision
from kdlab.core.config import TrainConfig
from kdlab.core.evaluate import evaluate
from kdlab.core.models import MLP, BatchedMLP
from kdlab.core.precision import Bf16Shadow, cpu_has_bf16_matmul, resolve_precision
from kdlab.core.train import fit


def _blobs(n=512, d=20, classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(classes, d, generator=g) * 3
    y = torch.randint(0, classes, (n,), generator=g)
    return centers[y] + torch.randn(n, d, generator=g), y


@pytest.mark.parametrize("bad", ["fp16", "BF16", "", 16, None])
def test_bad_precision_is_one_line_error(bad):
    with pytest.raises(ValueError, match="precision must be 'auto', 'fp32' or 'bf16'") as err:
        TrainConfig(precision=bad)
    assert "\n" not in str(err.value)


def test_detection_can_be_forced(monkeypatch):
    monkeypatch.setenv("KDLAB_CPU_BF16", "0")
    assert not cpu_has_bf16_matmul()
    assert resolve_precision("auto", "cpu") == "fp32"
    monkeypatch.setenv("KDLAB_CPU_BF16", "1")
    assert cpu_has_bf16_matmul()
    assert resolve_precision("auto", "cpu") == "bf16"
    assert resolve_precision("auto", torch.device("cuda")) == "fp32"  # CUDA keeps its own choice
    assert resolve_precision("fp32", "cpu") == "fp32" and resolve_precision("bf16", "cpu") == "bf16"


@pytest.mark.parametrize(
    "flags, expected",
    [
        ({"avx512f", "avx512_bf16"}, True),
        ({"amx_tile", "amx_bf16"}, True),
        ({"avx512f", "avx2"}, False),
        (set(), False),
    ],
)
def test_detection_reads_the_cpu_flags(monkeypatch, flags, expected):
    monkeypatch.delenv("KDLAB_CPU_BF16", raising=False)
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    assert cpu_has_bf16_matmul() is expected  # the False rows: a check that can say no


@pytest.mark.parametrize("batched", [False, True])
def test_bf16_forward_and_gradients_close_to_fp32(batched):
    torch.manual_seed(0)
    net = BatchedMLP(3, 20, [64, 32], 4) if batched else MLP(20, [64, 32], 4)
    x = torch.randn(16, 20)
    net.train()
    ref = net(x)
    ref.square().sum().backward()
    ref_grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad(set_to_none=True)
    net.bf16 = Bf16Shadow(net.weight_pairs())
    out = net(x)
    assert out.dtype == torch.float32  # the logits handed to the loss
    torch.testing.assert_close(out, ref, rtol=0.05, atol=0.05)
    assert not torch.equal(out, ref)  # the bf16 path was taken
    out.square().sum().backward()
    for p, g in zip(net.parameters(), ref_grads):
        assert p.dtype == torch.float32 and p.grad.dtype == torch.float32 and p.grad.shape == p.shape
        cos = torch.nn.functional.cosine_similarity(p.grad.flatten(), g.flatten(), dim=0)
        assert cos > 0.99
    net.eval()
    torch.testing.assert_close(net(x), ref.detach())  # evaluation multiplies the fp32 masters


def _train(precision, monkeypatch=None, env=None, model=None, epochs=3):
    if env is not None:
        monkeypatch.setenv("KDLAB_CPU_BF16", env)
    x, y = _blobs()
    torch.manual_seed(0)
    model = model or MLP(20, [32, 32], 4, dropout_hidden=0.2, max_norm=2.0)
    cfg = TrainConfig(epochs=epochs, batch_size=64, lr=0.1, progress=False, precision=precision)
    fit(model, x, y, config=cfg, device="cpu")
    return model, x, y


def test_auto_without_bf16_instructions_is_fp32(monkeypatch):
    auto, x, y = _train("auto", monkeypatch, env="0")
    fp32, _, _ = _train("fp32")
    bf16, _, _ = _train("bf16")
    for a, b in zip(auto.parameters(), fp32.parameters()):
        assert torch.equal(a, b)  # same steps, bit for bit
    assert not all(torch.equal(a, c) for a, c in zip(auto.parameters(), bf16.parameters()))  # bf16 differs
    assert evaluate(auto, x, y).errors < 0.05 * len(y)


def test_auto_with_bf16_instructions_takes_the_bf16_step(monkeypatch):
    auto, _, _ = _train("auto", monkeypatch, env="1")
    bf16, _, _ = _train("bf16")
    for a, b in zip(auto.parameters(), bf16.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["mlp", "batched", "sequential"])
def test_bf16_training_learns_and_keeps_fp32_state(kind):
    torch.manual_seed(0)
    model = {
        "mlp": lambda: MLP(20, [32, 32], 4, dropout_hidden=0.2, max_norm=2.0),
        "batched": lambda: BatchedMLP(2, 20, [32, 32], 4, max_norm=2.0),
        "sequential": lambda: torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)),
    }[kind]()
    model, x, y = _train("bf16", model=model)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert getattr(model, "bf16", None) is None  # the shadow is gone after fit
    errors = evaluate(model, x, y).errors
    worst = max(errors) if isinstance(errors, list) else errors
    assert worst < 0.05 * len(y)


@pytest.fixture
def auto_restored():
    yield
    precision.set_auto_precision("auto")  # what "auto" means is process-wide: leave it as found


def test_a_notebooks_precision_becomes_what_auto_means(monkeypatch, auto_restored):
    monkeypatch.setenv("KDLAB_CPU_BF16", "1")
    precision.set_auto_precision("fp32")
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"  # a config that names its precision keeps it
    precision.set_auto_precision("auto")
    assert resolve_precision("auto", "cpu") == "bf16"  # back to the detection
    with pytest.raises(ValueError, match="precision must be"):
        precision.set_auto_precision("half")


@pytest.mark.parametrize(
    "cpu_bf16, param, recorded", [("1", "auto", "bf16"), ("0", "auto", "fp32"), ("1", "fp32", "fp32")]
)
def test_env_json_records_the_precision_used(tmp_path, monkeypatch, auto_restored, cpu_bf16, param, recorded):
    import json

    from kdlab.lab import Lab

    monkeypatch.setenv("KDLAB_CPU_BF16", cpu_bf16)
    lab = Lab("03_mnist_distillation", root=tmp_path, PROFILE="quick", PRECISION=param)
    lab.device("cpu", param)
    final = lab.close()
    assert json.loads((final / "env.json").read_text())["precision"] == recorded
    assert json.loads((final / "params.json").read_text())["params"]["PRECISION"] == param
