"""Models and the device-resident training loop: shapes, max-norm, batched ensemble == members alone, resume."""

import pytest
import torch

from kdlab.core.batches import jitter_images
from kdlab.core.config import TrainConfig, resolve_device
from kdlab.core.evaluate import errors_from_logits, evaluate, predict_logits
from kdlab.core.models import MLP, BatchedMLP
from kdlab.core.train import fit


def _blobs(n=512, d=20, classes=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(classes, d, generator=g) * 3
    y = torch.randint(0, classes, (n,), generator=g)
    return centers[y] + torch.randn(n, d, generator=g), y


def test_mlp_shapes_and_max_norm():
    net = MLP(20, [16, 8], 4, dropout_input=0.2, dropout_hidden=0.5, max_norm=0.5)
    assert net(torch.randn(3, 20)).shape == (3, 4)
    assert net(torch.randn(3, 4, 5)).shape == (3, 4)  # flattens images
    with torch.no_grad():
        for layer in net.layers:
            layer.weight.mul_(10)
    net.apply_max_norm()
    for layer in net.layers:
        assert layer.weight.norm(dim=1).max().item() <= 0.5 + 1e-6


def test_batched_mlp_members_match_plain_mlps():
    torch.manual_seed(0)
    ens = BatchedMLP(3, 20, [16, 8], 4)
    x = torch.randn(5, 20)
    out = ens(x)
    assert out.shape == (3, 5, 4)
    for m in range(3):
        torch.testing.assert_close(ens.member(m)(x), out[m], rtol=1e-5, atol=1e-6)
    again = BatchedMLP.from_mlps([ens.member(m) for m in range(3)])
    torch.testing.assert_close(again(x), out, rtol=1e-5, atol=1e-6)
    assert ens(torch.randn(3, 5, 20)).shape == (3, 5, 4)  # a separate batch per member


def test_batched_max_norm_is_per_member_and_unit():
    ens = BatchedMLP(2, 6, [5], 3, max_norm=1.0)
    with torch.no_grad():
        ens.weights[0].mul_(100)
    ens.apply_max_norm()
    assert ens.member(0).layers[0].weight.norm(dim=1).max().item() <= 1.0 + 1e-6
    assert ens.member(1).layers[0].weight.norm(dim=1).max().item() <= 1.0 + 1e-6
    assert ens.member(1).layers[0].weight.norm(dim=1).max().item() > 0.99  # scaled down to the bound, not below


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(in_features=0, hidden=[3], num_classes=2),
        dict(in_features=3, hidden=[3], num_classes=2, dropout_hidden=1.0),
        dict(in_features=3, hidden=[3], num_classes=2, max_norm=0),
    ],
)
def test_bad_model_parameters_raise(kwargs):
    with pytest.raises(ValueError):
        MLP(**kwargs)


def test_fit_learns_and_evaluate_counts_errors():
    x, y = _blobs()
    net = MLP(20, [32], 4)
    before = evaluate(net, x, y).errors
    hist = fit(
        net, x, y, config=TrainConfig(epochs=3, batch_size=64, lr=0.05, progress=False), x_val=x, y_val=y, device="cpu"
    )
    after = evaluate(net, x, y)
    assert after.errors < before and after.errors < 30
    assert hist.val_errors[-1] == after.errors
    assert int(after.per_class_errors.sum()) == after.errors
    assert len(hist.train_loss) == 3 and hist.train_loss[-1] < hist.train_loss[0]


def test_ensemble_members_train_exactly_as_if_alone():
    """The batched ensemble sums member losses, so each member's update equals training that MLP by itself."""
    x, y = _blobs(n=256)
    torch.manual_seed(1)
    ens = BatchedMLP(3, 20, [16], 4)
    alone = [ens.member(m) for m in range(3)]
    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.05, progress=False, seed=7)
    fit(ens, x, y, config=cfg, device="cpu")
    for m, net in enumerate(alone):
        fit(net, x, y, config=cfg, device="cpu")
        torch.testing.assert_close(ens.member(m)(x), net(x), rtol=1e-4, atol=1e-5)


def test_distillation_target_moves_student_towards_teacher():
    x, y = _blobs()
    teacher = MLP(20, [32], 4)
    fit(teacher, x, y, config=TrainConfig(epochs=3, batch_size=64, lr=0.05, progress=False), device="cpu")
    t_logits = predict_logits(teacher, x)
    student = MLP(20, [32], 4)
    fit(
        student,
        x,
        config=TrainConfig(epochs=3, batch_size=64, lr=0.05, temperature=4.0, progress=False),
        teacher_logits=t_logits,
        device="cpu",
    )
    agree = (predict_logits(student, x).argmax(1) == t_logits.argmax(1)).float().mean().item()
    assert agree > 0.95


def test_checkpoint_resume_gives_identical_weights(tmp_path):
    x, y = _blobs(n=256)
    torch.manual_seed(3)
    a = MLP(20, [16], 4, dropout_hidden=0.3)
    b = MLP(20, [16], 4, dropout_hidden=0.3)
    b.load_state_dict(a.state_dict())
    full = TrainConfig(epochs=4, batch_size=32, lr=0.05, progress=False)
    torch.manual_seed(11)
    fit(a, x, y, config=full, device="cpu")
    ckpt = tmp_path / "ckpt.pt"
    torch.manual_seed(11)
    fit(b, x, y, config=TrainConfig(**{**full.__dict__, "epochs": 4, "checkpoint_path": str(ckpt)}), device="cpu")
    # now simulate an interruption: rerun from the saved epoch-4 checkpoint of a 4-epoch run → nothing left to do
    c = MLP(20, [16], 4, dropout_hidden=0.3)
    hist = fit(c, x, y, config=TrainConfig(**{**full.__dict__, "checkpoint_path": str(ckpt)}), device="cpu")
    assert len(hist.epoch) == 4
    torch.testing.assert_close(c(x), b.eval()(x))
    torch.testing.assert_close(a.eval()(x), b(x))


def test_resume_after_interruption_matches_uninterrupted(tmp_path):
    x, y = _blobs(n=256)
    torch.manual_seed(5)
    ref = MLP(20, [16], 4, dropout_hidden=0.3)  # dropout: the global RNG must resume too
    init = {k: v.clone() for k, v in ref.state_dict().items()}
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.05, progress=False, checkpoint_path=str(tmp_path / "a.pt"))
    torch.manual_seed(6)
    fit(ref, x, y, config=cfg, device="cpu")

    class Stop(Exception):
        pass

    def stop_after_two(epoch, model):
        if epoch == 1:
            raise Stop

    part = MLP(20, [16], 4, dropout_hidden=0.3)
    part.load_state_dict(init)
    torch.manual_seed(6)
    cfg_b = TrainConfig(**{**cfg.__dict__, "checkpoint_path": str(tmp_path / "b.pt")})
    with pytest.raises(Stop):
        fit(part, x, y, config=cfg_b, device="cpu", on_epoch_end=stop_after_two)  # dies before epoch 2 is saved
    resumed = MLP(20, [16], 4, dropout_hidden=0.3)
    torch.manual_seed(99)  # whatever the global RNG is now, the checkpoint restores it
    fit(resumed, x, y, config=cfg_b, device="cpu")
    torch.testing.assert_close(resumed.eval()(x), ref.eval()(x), rtol=1e-5, atol=1e-6)


def test_jitter_shifts_whole_images_within_range():
    img = torch.zeros(1, 28, 28)
    img[0, 10:14, 12:15] = 1.0
    gen = torch.Generator().manual_seed(0)
    out = jitter_images(img.repeat(200, 1, 1).reshape(200, -1), 2, (28, 28), gen).reshape(200, 28, 28)
    assert torch.all(out.sum((1, 2)) == img.sum())  # nothing lost: the blob stays inside the frame
    rows = out.sum(2).argmax(1)
    assert set(rows.tolist()) == {8, 9, 10, 11, 12}  # every shift in [-2, 2] occurs, none beyond


def test_fit_rejects_jitter_with_precomputed_teacher():
    x, y = _blobs(n=64, d=784)
    with pytest.raises(ValueError, match="jitter"):
        fit(
            MLP(784, [8], 4),
            x,
            config=TrainConfig(epochs=1, jitter=2, progress=False),
            teacher_logits=torch.zeros(64, 4),
        )


def test_bad_config_raises():
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="step")
    with pytest.raises(ValueError, match="temperature"):
        TrainConfig(temperature=0)


def test_errors_from_logits_per_member():
    logits = torch.tensor([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]])  # (M=2, N=2, C=2)
    res = errors_from_logits(logits, torch.tensor([0, 1]))
    assert res.errors == [1, 2]
    assert res.per_class_errors.tolist() == [[0, 1], [1, 1]]


def test_resolve_device():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_and_cpu_agree():
    x, y = _blobs(n=128)
    torch.manual_seed(0)
    net = MLP(20, [16], 4)
    gpu = MLP(20, [16], 4)
    gpu.load_state_dict(net.state_dict())
    torch.testing.assert_close(predict_logits(gpu.cuda(), x).cpu(), predict_logits(net, x), rtol=1e-4, atol=1e-5)


def test_fit_stops_with_a_clear_error_when_training_diverges():
    from kdlab.core.train import TrainingDiverged

    torch.manual_seed(0)
    x, y = torch.randn(256, 20) * 50, torch.randint(0, 3, (256,))
    with pytest.raises(TrainingDiverged, match="diverged in epoch .*lower lr"):
        fit(
            MLP(20, [64], 3),
            x,
            y,
            config=TrainConfig(epochs=3, lr=1e4, schedule="constant", progress=False),
            device="cpu",
        )


def test_grad_clip_rejects_nonpositive_values():
    with pytest.raises(ValueError, match="grad_clip"):
        TrainConfig(grad_clip=0.0)


def test_clip_gradients_clips_each_ensemble_member_on_its_own():
    from kdlab.core.optim import clip_gradients

    torch.manual_seed(0)
    net = BatchedMLP(2, 6, [5], 3)
    for p in net.parameters():
        p.grad = torch.randn_like(p)
        p.grad[1] *= 1e-3  # member 1: a tiny gradient that clipping must leave alone
    before = [p.grad.clone() for p in net.parameters()]

    def member_norm(m):
        return torch.sqrt(sum(p.grad[m].pow(2).sum() for p in net.parameters()))

    assert member_norm(0) > 1.0 > member_norm(1)
    clip_gradients(net, 1.0)
    assert torch.isclose(member_norm(0), torch.tensor(1.0), atol=1e-4)
    for p, b in zip(net.parameters(), before):
        torch.testing.assert_close(p.grad[1], b[1])  # untouched
        cos = torch.nn.functional.cosine_similarity(p.grad[0].flatten(), b[0].flatten(), dim=0)
        assert cos > 0.9999  # only rescaled, never turned


def test_clip_gradients_bounds_a_single_net_global_norm():
    from kdlab.core.optim import clip_gradients

    net = MLP(6, [5], 3)
    for p in net.parameters():
        p.grad = torch.full_like(p, 10.0)
    clip_gradients(net, 2.0)
    total = torch.sqrt(sum(p.grad.pow(2).sum() for p in net.parameters()))
    assert torch.isclose(total, torch.tensor(2.0), atol=1e-4)


def test_batched_mlp_reads_an_image_batch_of_size_m_as_shared():
    """A (10, 28, 28) image batch into a 10-member stack is one shared batch of 10 images, not 10 per-member rows."""
    from kdlab.core.models import BatchedMLP

    stack = BatchedMLP(10, 784, (16,), 10).eval()
    images = torch.randn(10, 28, 28)
    out = stack(images)
    assert out.shape == (10, 10, 10)
    torch.testing.assert_close(out, stack(images.flatten(1)))
    per_member = torch.randn(10, 5, 784)
    assert stack(per_member).shape == (10, 5, 10)
    torch.testing.assert_close(stack(per_member)[3], stack.member(3).eval()(per_member[3]), atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="expects"):
        stack(torch.randn(4, 100))


def test_logit_matching_loss_in_fit_ignores_a_per_case_shift():
    """TrainConfig(loss="logit_matching") matches zero-meaned logits (eq. 4's condition): a teacher whose logits are
    shifted by a constant per case gives the same loss as the unshifted one."""
    from kdlab.core.config import TrainConfig
    from kdlab.core.train import _soft_loss

    torch.manual_seed(0)
    z, v = torch.randn(8, 10), torch.randn(8, 10)
    cfg = TrainConfig(loss="logit_matching")
    shifted = v + torch.randn(8, 1) * 5
    torch.testing.assert_close(_soft_loss(z, None, shifted, cfg), _soft_loss(z, None, v, cfg))
    from kdlab.core.losses import logit_matching_loss

    assert logit_matching_loss(z, shifted) > logit_matching_loss(z, v) + 1  # Caruana's plain form is not shift-free
