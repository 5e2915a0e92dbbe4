"""Losses match hand-computed values, report their terms, and have correct gradients."""

import math

import pytest
import torch

from avlib.errors import ConfigError
from avlib.losses import (
    ContrastiveLoss,
    CrossEntropyLoss,
    DistillationLoss,
    InBatchCorrespondenceLoss,
    L2DistillationLoss,
    MultiWayLoss,
)


def test_contrastive_loss_matches_hand_computed_pairs():
    # distances after L2 normalisation: sqrt(2), sqrt(0.8), sqrt(0.8), 0
    v = torch.tensor([[1.0, 0.0], [1.0, 0.0], [3.0, 0.0], [1.0, 0.0]])
    a = torch.tensor([[0.0, 1.0], [0.6, 0.8], [0.6, 0.8], [2.0, 0.0]])
    y = torch.tensor([1, 0, 1, 0])
    loss, m = ContrastiveLoss(margin=0.99)({"label": y}, {"video_emb": v, "audio_emb": a})
    terms = [2.0, (0.99 - math.sqrt(0.8)) ** 2, 0.8, 0.99**2]
    assert loss.item() == pytest.approx(sum(terms) / 4, abs=1e-5)
    assert m["loss_pos"].item() == pytest.approx((2.0 + 0.8) / 4, abs=1e-5)
    assert m["loss_neg"].item() + m["loss_pos"].item() == pytest.approx(loss.item(), abs=1e-6)
    assert m["dist_pos"].item() == pytest.approx((math.sqrt(2) + math.sqrt(0.8)) / 2, abs=1e-5)
    assert "chance_loss" not in m


def test_contrastive_negatives_beyond_the_margin_cost_nothing():
    v, a = torch.tensor([[1.0, 0.0]]), torch.tensor([[-1.0, 0.0]])  # d = 2 > 0.99
    loss, _ = ContrastiveLoss()({"label": torch.tensor([0])}, {"video_emb": v, "audio_emb": a})
    assert loss.item() == 0.0


def _two_way_ce(logit_pos: float, target: int) -> float:
    """Cross-entropy of logits (0, logit_pos) against target 0/1."""
    return -torch.log_softmax(torch.tensor([0.0, logit_pos]), 0)[target].item()


def test_in_batch_correspondence_balances_positives_against_every_other_clip_pairing():
    # clips: video 0,0,1 with audio 0,0,2 -> (0,0) and (1,1) positive, (0,1) and (1,0) same clip
    # off the diagonal (left out), the 5 others negative (row 2's own pair included)
    z = torch.tensor([[2.0, 9.0, -1.0], [9.0, 1.0, -2.0], [0.5, -0.5, 3.0]])
    logits = torch.stack([torch.zeros_like(z), z], dim=-1)
    batch = {
        "label": torch.tensor([1, 1, 0]),
        "video_clip": torch.tensor([0, 0, 1]),
        "audio_clip": torch.tensor([0, 0, 2]),
    }
    loss, m = InBatchCorrespondenceLoss()(batch, {"pair_logits": logits})
    pos = (_two_way_ce(2.0, 1) + _two_way_ce(1.0, 1)) / 2
    neg = sum(_two_way_ce(v, 0) for v in (-1.0, -2.0, 0.5, -0.5, 3.0)) / 5
    assert m["loss_pos"].item() == pytest.approx(pos, abs=1e-5)
    assert m["loss_neg"].item() == pytest.approx(neg, abs=1e-5)
    assert loss.item() == pytest.approx((pos + neg) / 2, abs=1e-5)
    assert m["acc"].item() == pytest.approx(2 / 3)  # row 2 (a negative) scored 3.0: wrong
    assert m["chance_loss"].item() == pytest.approx(math.log(2))
    logits.requires_grad_(True)
    InBatchCorrespondenceLoss()(batch, {"pair_logits": logits})[0].backward()
    assert logits.grad[0, 1].abs().sum() == 0 and logits.grad[1, 0].abs().sum() == 0


def test_cross_entropy_two_way_values_accuracy_and_chance():
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    loss, m = CrossEntropyLoss()({"label": torch.tensor([1, 0])}, {"logits": logits})
    assert loss.item() == pytest.approx((math.log(2) + math.log(4 / 3)) / 2, abs=1e-6)
    assert m["acc"].item() == 0.5  # argmax of a tie is class 0: wrong for the first
    assert m["chance_loss"].item() == pytest.approx(math.log(2))


def test_multiway_uses_negative_euclidean_distance_over_candidates():
    v = torch.tensor([[0.0, 0.0]])
    a = torch.tensor([[[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]]])  # distances 5, 1, 2
    loss, m = MultiWayLoss()({"target_index": torch.tensor([1])}, {"video_emb": v, "audio_emb": a})
    expected = -math.log(math.exp(-1) / (math.exp(-5) + math.exp(-1) + math.exp(-2)))
    assert loss.item() == pytest.approx(expected, abs=1e-6)
    assert m["acc"].item() == 1.0 and m["chance_loss"].item() == pytest.approx(math.log(3))


def test_multiway_cosine_with_learnable_scale_is_a_parameter():
    loss_fn = MultiWayLoss(similarity="cosine", scale=10.0, learn_scale=True)
    assert [n for n, _ in loss_fn.named_parameters()] == ["log_scale"]
    v = torch.tensor([[1.0, 0.0]])
    a = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])  # cosines 1, 0
    loss, m = loss_fn({"target_index": torch.tensor([0])}, {"video_emb": v, "audio_emb": a})
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-10)), abs=1e-6)
    assert m["scale"].item() == pytest.approx(10.0)
    loss.backward()
    assert loss_fn.log_scale.grad is not None
    with pytest.raises(ConfigError, match=r"\(B,N,D\)"):
        loss_fn({"target_index": torch.tensor([0])}, {"video_emb": v, "audio_emb": v})


def test_kl_distillation_is_zero_at_the_teacher_and_ln_four_thirds_here():
    batch = {"teacher_probs": torch.tensor([[0.5, 0.5], [1.0, 0.0]])}
    out = {"logits": torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])}
    loss, m = DistillationLoss()(batch, out)
    assert loss.item() == pytest.approx(math.log(4 / 3) / 2, abs=1e-6)  # p = 0 terms vanish
    assert m["kl"].item() == pytest.approx(loss.item())


def test_kl_temperature_softens_teacher_and_student_alike():
    # teacher [.8,.2] at T=2 -> [2/3, 1/3]; student logits [2 ln 2, 0] at T=2 -> [2/3, 1/3]
    batch = {"teacher_probs": torch.tensor([[0.8, 0.2]])}
    out = {"logits": torch.tensor([[2 * math.log(2.0), 0.0]])}
    assert DistillationLoss(temperature=2.0)(batch, out)[0].item() == pytest.approx(0, abs=1e-6)
    flat = {"logits": torch.zeros(1, 2)}  # q = [1/2, 1/2]; KL(p_T || q) times T^2
    expected = 4 * (2 / 3 * math.log(4 / 3) + 1 / 3 * math.log(2 / 3))
    assert DistillationLoss(temperature=2.0)(batch, flat)[0].item() == pytest.approx(expected)


def test_distillation_sums_named_heads_and_broadcasts_teacher_over_time():
    teacher = {"objects": torch.tensor([[1.0, 0.0]]), "scenes": torch.tensor([[0.5, 0.5]])}
    student = {
        "objects": torch.tensor([[[math.log(3.0), 0.0], [math.log(3.0), 0.0]]]),  # (B,T,K)
        "scenes": torch.tensor([[[0.0, 0.0], [0.0, 0.0]]]),
    }
    loss, m = DistillationLoss()({"teacher_probs": teacher}, {"logits": student})
    assert m["kl_objects"].item() == pytest.approx(math.log(4 / 3), abs=1e-6)
    assert m["kl_scenes"].item() == pytest.approx(0.0, abs=1e-6)
    only, m1 = DistillationLoss(heads=("scenes",))({"teacher_probs": teacher}, {"logits": student})
    assert set(m1) == {"kl_scenes", "loss"} and only.item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ConfigError, match="missing"):
        DistillationLoss(heads=("places",))({"teacher_probs": teacher}, {"logits": student})


def test_l2_distillation_compares_distributions():
    batch = {"teacher_probs": torch.tensor([[1.0, 0.0]])}
    loss, m = L2DistillationLoss()(batch, {"logits": torch.tensor([[0.0, 0.0]])})
    assert loss.item() == pytest.approx(0.5) and m["l2"].item() == pytest.approx(0.5)
    raw, _ = L2DistillationLoss(on_probs=False)(batch, {"logits": torch.tensor([[0.0, 0.0]])})
    assert raw.item() == pytest.approx(1.0)


def test_losses_return_float32_for_bfloat16_outputs():
    logits = torch.randn(4, 2).bfloat16()
    loss, _ = CrossEntropyLoss()({"label": torch.tensor([0, 1, 0, 1])}, {"logits": logits})
    assert loss.dtype == torch.float32


def _gradcheck(fn, *shape) -> bool:
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return torch.autograd.gradcheck(fn, (x.requires_grad_(),))


def test_contrastive_gradient_matches_finite_differences_in_float64():
    audio, y = torch.randn(4, 3, dtype=torch.float64), torch.tensor([1, 0, 0, 1])
    loss_fn = ContrastiveLoss(margin=0.99)
    assert _gradcheck(
        lambda v: loss_fn({"label": y}, {"video_emb": v, "audio_emb": audio})[0], 4, 3
    )


def test_multiway_gradient_matches_finite_differences_in_float64():
    audio, target = torch.randn(2, 5, 3, dtype=torch.float64), torch.tensor([0, 2])
    loss_fn = MultiWayLoss()
    batch = {"target_index": target}
    assert _gradcheck(lambda v: loss_fn(batch, {"video_emb": v, "audio_emb": audio})[0], 2, 3)


def test_kl_gradient_matches_finite_differences_in_float64():
    batch = {"teacher_probs": torch.softmax(torch.randn(3, 4, dtype=torch.float64), -1)}
    loss_fn = DistillationLoss(temperature=2.0)
    assert _gradcheck(lambda z: loss_fn(batch, {"logits": z})[0], 3, 4)
