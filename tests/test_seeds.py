"""Seeds as members (kdlab.core.seeds.fit_seeds): member m equals the separate run of seed m, in fp32."""

from dataclasses import replace
from functools import partial

import pytest
import torch

from kdlab.core.config import TrainConfig, seed_everything
from kdlab.core.models import MLP
from kdlab.core.seeds import fit_seeds
from kdlab.core.train import fit

SEEDS = (3, 7, 11)


def _data(n=300, d=40, classes=5):
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(classes, d, generator=g) * 2
    y = torch.randint(0, classes, (n,), generator=g)
    return centers[y] + torch.randn(n, d, generator=g), y


def _separate(make, x, y, seed, config, teacher=None):
    seed_everything(seed)
    model = make()
    fit(model, x, y, config=replace(config, seed=seed), teacher_logits=teacher, device="cpu")
    return model


@pytest.mark.parametrize("distil", [False, True])
def test_members_equal_separate_runs(distil):
    x, y = _data()
    make = partial(MLP, 40, [24, 24], 5)
    teacher = torch.randn(len(x), 5) * 3 if distil else None
    config = TrainConfig(epochs=3, batch_size=64, lr=0.1, grad_clip=5.0, progress=False, precision="fp32",
                         temperature=4.0 if distil else 1.0, hard_weight=0.1 if distil else 0.0)  # fmt: skip
    stack, history = fit_seeds(make, x, y, SEEDS, config=config, teacher_logits=teacher, device="cpu")
    assert len(history.train_loss) == 3
    alone = [_separate(make, x, y, s, config, teacher) for s in SEEDS]
    for m, net in enumerate(alone):
        for a, b in zip(stack.member(m).parameters(), net.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    # the check can fail: members trained from other seeds are not these runs
    other = _separate(make, x, y, 99, config, teacher)
    assert not torch.allclose(stack.member(0).layers[0].weight, other.layers[0].weight, atol=1e-3)


def test_fit_seeds_refuses_what_it_cannot_reproduce():
    x, y = _data()
    make = partial(MLP, 40, [8], 5)
    with pytest.raises(ValueError, match="jitter"):
        fit_seeds(make, x, y, SEEDS, config=TrainConfig(jitter=2, image_shape=(5, 8), progress=False))
    with pytest.raises(ValueError, match="differ"):
        fit_seeds(make, x, y, (1, 1), config=TrainConfig(progress=False))
