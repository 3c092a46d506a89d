"""Losses against hand-derived gradients (paper eq. 2–4), in float64 so the tolerances can be tight."""

import pytest
import torch

from kdlab.core.losses import (
    distillation_loss,
    logit_matching_loss,
    soft_cross_entropy,
    softmax_t,
)


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _grad(fn, z):
    z = z.clone().requires_grad_(True)
    fn(z).backward()
    return z.grad


def test_softmax_t_is_eq1():
    z = torch.tensor([[1.0, 2.0, -3.0]])
    for T in (0.5, 1.0, 4.0):
        expected = torch.exp(z / T) / torch.exp(z / T).sum()
        torch.testing.assert_close(softmax_t(z, T), expected, rtol=0, atol=1e-15)


def test_soft_cross_entropy_value_is_batchmean_sum_over_classes():
    g = torch.Generator().manual_seed(0)
    z, v = torch.randn(5, 7, generator=g), torch.randn(5, 7, generator=g)
    T = 3.0
    p = softmax_t(v, T)
    manual = -(p * torch.log_softmax(z / T, -1)).sum() / 5
    torch.testing.assert_close(soft_cross_entropy(z, p, T), manual, rtol=0, atol=1e-14)


@pytest.mark.parametrize("T", [1.0, 2.0, 5.0, 20.0])
def test_soft_cross_entropy_gradient_is_eq2(T):
    g = torch.Generator().manual_seed(1)
    B, N = 8, 10
    z, v = torch.randn(B, N, generator=g) * 3, torch.randn(B, N, generator=g) * 3
    p = softmax_t(v, T)
    grad = _grad(lambda s: soft_cross_entropy(s, p, T), z)
    q = softmax_t(z, T)
    torch.testing.assert_close(grad, (q - p) / (T * B), rtol=0, atol=1e-10)


def test_high_temperature_gradient_approaches_logit_matching_eq4():
    """With zero-meaned logits, (q − p)/T → (z − v)/(N T²); the relative error shrinks monotonically in T."""
    g = torch.Generator().manual_seed(2)
    B, N = 16, 10
    z, v = torch.randn(B, N, generator=g) * 2, torch.randn(B, N, generator=g) * 2
    z, v = z - z.mean(1, keepdim=True), v - v.mean(1, keepdim=True)
    errors = []
    for T in (1, 2, 5, 10, 20, 50):
        grad = _grad(lambda s, T=T: soft_cross_entropy(s, softmax_t(v, T), T), z)
        approx = (z - v) / (N * T**2 * B)
        errors.append(((grad - approx).norm() / approx.norm()).item())
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.05 and errors[-1] < errors[0] / 10  # first order in 1/T
    # the logit-matching loss has exactly that gradient up to the 1/(N T²) factor
    lm_grad = _grad(lambda s: logit_matching_loss(s, v), z)
    torch.testing.assert_close(lm_grad, (z - v) / B, rtol=0, atol=1e-12)


def test_t_squared_keeps_soft_gradient_magnitude_roughly_constant():
    g = torch.Generator().manual_seed(3)
    z, v = torch.randn(32, 10, generator=g) * 4, torch.randn(32, 10, generator=g) * 4
    z, v = z - z.mean(1, keepdim=True), v - v.mean(1, keepdim=True)
    scaled, unscaled = [], []
    for T in (2.0, 5.0, 10.0, 20.0):
        scaled.append(_grad(lambda s, T=T: distillation_loss(s, None, v, T, hard_weight=0.0), z).norm().item())
        unscaled.append(_grad(lambda s, T=T: soft_cross_entropy(s, softmax_t(v, T), T), z).norm().item())
    assert max(scaled) / min(scaled) < 2.0, scaled  # with T²: within a factor of 2 over T = 2..20
    assert max(unscaled) / min(unscaled) > 50.0, unscaled  # without it: falls as 1/T²


def test_distillation_loss_combines_soft_and_hard_terms():
    g = torch.Generator().manual_seed(4)
    z, v = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    T, w = 4.0, 0.3
    soft = soft_cross_entropy(z, softmax_t(v, T), T)
    hard = torch.nn.functional.cross_entropy(z, y)
    torch.testing.assert_close(distillation_loss(z, y, v, T, w), T**2 * soft + w * hard, rtol=0, atol=1e-13)
    torch.testing.assert_close(distillation_loss(z, None, v, T, 0.0), T**2 * soft, rtol=0, atol=1e-13)


def test_teacher_gets_no_gradient():
    z = torch.randn(3, 5)
    v = torch.randn(3, 5, requires_grad=True)
    distillation_loss(z.requires_grad_(), None, v, 2.0).backward()
    assert v.grad is None


def test_logit_matching_value():
    z, v = torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.tensor([[0.0, 0.0], [3.0, -1.0]])
    assert logit_matching_loss(z, v).item() == pytest.approx(0.5 * (1 + 4 + 9 + 1) / 2)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: softmax_t(torch.zeros(2, 3), 0.0), "temperature"),
        (lambda: softmax_t(torch.zeros(2, 3), -1.0), "temperature"),
        (lambda: softmax_t(torch.zeros(2, 3), float("nan")), "temperature"),
        (lambda: soft_cross_entropy(torch.zeros(2, 3), torch.full((2, 4), 0.25), 1.0), "shape"),
        (lambda: soft_cross_entropy(torch.zeros(2, 3), torch.ones(2, 3), 1.0), "sum to 1"),
        (lambda: soft_cross_entropy(torch.zeros(3), torch.ones(3) / 3, 1.0), "2-D"),
        (lambda: distillation_loss(torch.zeros(2, 3), None, torch.zeros(2, 3), 2.0, 0.5), "labels"),
        (lambda: distillation_loss(torch.zeros(2, 3), None, torch.zeros(2, 3), 2.0, -1.0), "hard_weight"),
        (lambda: logit_matching_loss(torch.zeros(2, 3), torch.zeros(3, 3)), "shape"),
    ],
)
def test_invalid_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
