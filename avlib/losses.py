"""The papers' training losses, each a callable ``(batch, out) -> (loss, metrics)``.

``out`` is what a model's ``forward(batch)`` returns; ``batch`` is the data
dict (ARCHITECTURE.md). Keys read:

| loss | ``out`` | ``batch`` |
|---|---|---|
| :class:`ContrastiveLoss` (AVTS, SyncNet) | ``video_emb`` (B,D), ``audio_emb`` (B,D) | ``label`` (B,) 1 = corresponding / in sync |
| :class:`CrossEntropyLoss` (L3, AVE-Net, attention; classifier heads) | ``logits`` (B,K) | ``label`` (B,) |
| :class:`InBatchCorrespondenceLoss` (L3, AVE-Net, AVOL-Net at the CPU presets) | ``pair_logits`` (B,B,2) | ``label``, ``video_clip``, ``audio_clip`` (B,) |
| :class:`MultiWayLoss` (Perfect Match) | ``video_emb`` (B,D), ``audio_emb`` (B,N,D) | ``target_index`` (B,) |
| :class:`DistillationLoss`, :class:`L2DistillationLoss` (SoundNet) | ``logits`` tensor or {head: tensor} | ``teacher_probs``, same structure |
| :class:`ReconstructionLoss` (autoencoder baselines) | ``reconstruction``, ``target`` (same shape) | - |

``metrics`` are detached 0-d tensors; ``metrics["loss"]`` is the loss. A loss
whose uninformed level is known also reports ``chance_loss`` (ln K for a K-way
softmax), which the trainer uses to flag runs that never leave chance.
Losses compute in float32 even when the model ran under bf16 autocast
(float64 inputs stay float64, so ``gradcheck`` applies).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from avlib.errors import ConfigError

Metrics = dict[str, torch.Tensor]


def euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """||a - b||_2 over the last dim, with a gradient that stays finite at a == b."""
    return (a - b).pow(2).sum(-1).clamp_min(1e-12).sqrt()


def _full(x: torch.Tensor) -> torch.Tensor:
    """Half-precision (autocast) outputs to float32; float32/float64 kept as they are."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _chance(n_way: int, like: torch.Tensor) -> torch.Tensor:
    """ln(n_way): the cross-entropy of a uniform guess."""
    return like.new_tensor(math.log(n_way))


class ContrastiveLoss(nn.Module):
    """Contrastive loss on the distance between L2-normalised embeddings (AVTS, SyncNet).

    With d = ||v/|v| - a/|a|||_2 and y = ``batch["label"]`` (1 positive, 0 negative):

        L = mean_n [ y_n d_n^2 + (1 - y_n) max(0, margin - d_n)^2 ]

    the form of Korbar et al. 2018 (AVTS, §3.2, margin eta = 0.99), after
    Hadsell, Chopra & LeCun, CVPR 2006, without their factor 1/2; SyncNet
    (Chung & Zisserman 2016) trains with the same loss. Metrics: the two terms
    (``loss_pos``, ``loss_neg``, each summed over its pairs and divided by B, so
    they add up to ``loss``) and the mean distance of positive and negative pairs
    (0 when a batch has none). There is no chance level: collapse shows in the
    distances and in the sync evaluator's ``collapse_check``.
    """

    def __init__(self, margin: float = 0.99, normalise: bool = True):
        super().__init__()
        self.margin = margin
        self.normalise = normalise

    def forward(self, batch: dict, out: dict) -> tuple[torch.Tensor, Metrics]:
        """Contrastive loss of ``out['video_emb']`` vs ``out['audio_emb']`` under ``batch['label']``."""
        v, a = _full(out["video_emb"]), _full(out["audio_emb"])
        if self.normalise:
            v, a = F.normalize(v, dim=-1), F.normalize(a, dim=-1)
        d = euclidean(v, a)
        y = batch["label"].to(d.dtype)
        pos = y * d.pow(2)
        neg = (1 - y) * (self.margin - d).clamp_min(0).pow(2)
        loss = (pos + neg).mean()
        n_pos, n_neg = y.sum().clamp_min(1), (1 - y).sum().clamp_min(1)
        metrics = {
            "loss": loss,
            "loss_pos": pos.mean(),
            "loss_neg": neg.mean(),
            "dist_pos": (y * d).sum() / n_pos,
            "dist_neg": ((1 - y) * d).sum() / n_neg,
        }
        return loss, _detach(metrics)


class CrossEntropyLoss(nn.Module):
    """Softmax cross-entropy on ``out['logits']`` (B,K) against ``batch['label']`` (B,).

    With K = 2 this is the binary correspondence loss of L3-Net (AVC),
    AVE-Net and the attention paper's sync classifier; with K classes it trains
    the classifier heads of supervised baselines and fine-tuning. Reports
    ``acc`` and ``chance_loss`` = ln K.
    """

    def __init__(self, logits_key: str = "logits", label_key: str = "label"):
        super().__init__()
        self.logits_key = logits_key
        self.label_key = label_key

    def forward(self, batch: dict, out: dict) -> tuple[torch.Tensor, Metrics]:
        """Mean cross-entropy, accuracy and the chance level of a K-way guess."""
        logits, label = _full(out[self.logits_key]), batch[self.label_key]
        loss = F.cross_entropy(logits, label)
        acc = (logits.argmax(-1) == label).float().mean()
        return loss, _detach(
            {"loss": loss, "acc": acc, "chance_loss": _chance(logits.shape[-1], loss)}
        )


class InBatchCorrespondenceLoss(nn.Module):
    """Binary correspondence over every video-audio pairing of a batch, balanced.

    ``out['pair_logits'][k, l]`` (B,B,2) scores video k with audio l. Positives:
    the batch's own corresponding pairs (diagonal, ``label`` 1); negatives: every
    pairing whose video and audio come from different clips (``video_clip``,
    ``audio_clip``), the batch's own negatives included; same-clip pairings off
    the diagonal are left out (their audio may be the frame's own). The loss is
    the mean cross-entropy of the positives plus that of the negatives, halved:
    the same balanced two-way task as L3's AVC, with B^2 - B negatives per
    forward pass instead of B/2. Ours (a CPU-budget deviation): L3 and Objects
    that Sound sample one negative per pair. Reports ``acc`` on the batch's own
    pairs and ``chance_loss`` = ln 2.
    """

    def forward(self, batch: dict, out: dict) -> tuple[torch.Tensor, Metrics]:
        """Balanced cross-entropy over all pairings, and accuracy on the diagonal."""
        logits = _full(out["pair_logits"])
        n = logits.shape[0]
        label = batch["label"].to(logits.device)
        video_clip = batch["video_clip"].to(logits.device)
        audio_clip = batch["audio_clip"].to(logits.device)
        pos = torch.eye(n, dtype=torch.bool, device=logits.device) & (label == 1)[:, None]
        neg = video_clip[:, None] != audio_clip[None, :]
        ce = F.cross_entropy(logits.reshape(n * n, 2), pos.reshape(-1).long(), reduction="none")
        ce = ce.view(n, n)
        loss_pos = ce[pos].sum() / pos.sum().clamp_min(1)
        loss_neg = ce[neg].sum() / neg.sum().clamp_min(1)
        loss = 0.5 * (loss_pos + loss_neg)
        acc = (logits.diagonal().T.argmax(-1) == label).float().mean()
        metrics = {"loss": loss, "loss_pos": loss_pos, "loss_neg": loss_neg, "acc": acc}
        return loss, _detach(metrics | {"chance_loss": _chance(2, loss)})


class MultiWayLoss(nn.Module):
    """Perfect Match's multi-way matching: one video feature against N audio candidates.

    Similarity s_n = -||v - a_n||_2 (``similarity="distance"``, the paper's) or
    cos(v, a_n) (``"cosine"``), multiplied by ``scale`` (learned when
    ``learn_scale``; cosine needs a scale of ~10 to reach confident softmaxes);
    softmax over the N candidates; cross-entropy on ``batch['target_index']``.
    Chung, Chung & Kang, ICASSP 2019, §2. Reports ``acc`` (argmax = target) and
    ``chance_loss`` = ln N.
    """

    def __init__(
        self,
        similarity: str = "distance",
        scale: float = 1.0,
        learn_scale: bool = False,
        normalise: bool = False,
    ):
        super().__init__()
        if similarity not in ("distance", "cosine"):
            raise ConfigError(f"unknown similarity {similarity!r}: use 'distance' or 'cosine'")
        if scale <= 0:
            raise ConfigError(f"scale must be positive, got {scale}")
        self.similarity = similarity
        self.normalise = normalise
        log_scale = torch.tensor(math.log(scale))
        if learn_scale:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_scale", log_scale)

    def logits(self, video_emb: torch.Tensor, audio_emb: torch.Tensor) -> torch.Tensor:
        """(B,D) video and (B,N,D) audio candidates -> (B,N) scaled similarities."""
        v, a = _full(video_emb).unsqueeze(1), _full(audio_emb)
        if self.similarity == "cosine":
            sim = F.cosine_similarity(v, a, dim=-1, eps=1e-8)
        else:
            if self.normalise:
                v, a = F.normalize(v, dim=-1), F.normalize(a, dim=-1)
            sim = -euclidean(v, a)
        return self.log_scale.exp() * sim

    def forward(self, batch: dict, out: dict) -> tuple[torch.Tensor, Metrics]:
        """Cross-entropy of the true candidate among N."""
        audio = out["audio_emb"]
        if audio.dim() != 3:
            raise ConfigError(
                f"MultiWayLoss needs out['audio_emb'] of shape (B,N,D), got {tuple(audio.shape)}"
            )
        logits = self.logits(out["video_emb"], audio)
        target = batch["target_index"]
        loss = F.cross_entropy(logits, target)
        acc = (logits.argmax(-1) == target).float().mean()
        chance = _chance(logits.shape[-1], loss)
        metrics = {"loss": loss, "acc": acc, "chance_loss": chance, "scale": self.log_scale.exp()}
        return loss, _detach(metrics)


def _heads(out: dict, batch: dict, names: tuple[str, ...] | None):
    """Pairs (name, student logits, teacher probs) from tensors or {head: tensor} dicts."""
    student, teacher = out["logits"], batch["teacher_probs"]
    if isinstance(teacher, torch.Tensor):
        return [("", student, teacher)]
    names = names or tuple(teacher)
    missing = [n for n in names if n not in teacher or n not in student]
    if missing:
        raise ConfigError(
            f"distillation heads {missing} missing: teacher has {sorted(teacher)}, "
            f"student has {sorted(student)}"
        )
    return [(n, student[n], teacher[n]) for n in names]


def _match(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Broadcast per-clip teacher probs (B,K) over a student's time axis (B,T,K)."""
    if student.dim() == teacher.dim() + 1:
        teacher = teacher.unsqueeze(1).expand_as(student)
    if student.shape != teacher.shape:
        raise ConfigError(
            f"student {tuple(student.shape)} and teacher {tuple(teacher.shape)} shapes differ"
        )
    return teacher


class DistillationLoss(nn.Module):
    """SoundNet's teacher-student loss: KL(teacher || student), summed over heads.

    For each head, p = teacher probabilities, q = softmax(student / T):
    KL = sum_k p_k (log p_k - log q_k), averaged over every leading position
    (batch, and time when the student outputs a sequence). With temperature
    T != 1 the teacher is softened the same way (softmax(log p / T)) and the
    loss is multiplied by T^2 (Hinton et al. 2015); SoundNet used T = 1
    (Aytar, Vondrick & Torralba, NeurIPS 2016, §3.2). ``heads`` restricts the
    teachers used (the ImageNet-only / Places-only ablations).
    Reports ``kl_<head>`` per head.
    """

    def __init__(self, temperature: float = 1.0, heads: tuple[str, ...] | None = None):
        super().__init__()
        if temperature <= 0:
            raise ConfigError(f"temperature must be positive, got {temperature}")
        self.temperature = temperature
        self.heads = heads

    def forward(self, batch: dict, out: dict) -> tuple[torch.Tensor, Metrics]:
        """Sum over heads of the mean KL divergence from teacher to student."""
        t = self.temperature
        total, metrics = 0.0, {}
        for name, student, teacher in _heads(out, batch, self.heads):
            p = _match(student, _full(teacher))
            if t != 1.0:
                p = F.softmax(torch.log(p.clamp_min(1e-12)) / t, dim=-1)
            log_q = F.log_softmax(_full(student) / t, dim=-1)
            kl = (torch.special.xlogy(p, p) - p * log_q).sum(-1).mean() * t * t
            metrics[f"kl_{name}" if name else "kl"] = kl
            total = total + kl
        metrics["loss"] = total
        return total, _detach(metrics)


class L2DistillationLoss(nn.Module):
    """SoundNet's L2 ablation: squared error between student and teacher distributions.

    sum_k (softmax(student)_k - p_k)^2, averaged over leading positions and
    summed over heads. The paper regresses the teachers' outputs with an L2
    loss (ESC-50: 47.8 vs 72.9 with KL); comparing distributions, not raw
    logits, is our reading (``on_probs=False`` regresses the raw outputs).
    """

    def __init__(self, on_probs: bool = True, heads: tuple[str, ...] | None = None):
        super().__init__()
        self.on_probs = on_probs
        self.heads = heads

    def forward(self, batch: dict, out: dict) -> tuple[torch.Tensor, Metrics]:
        """Sum over heads of the mean squared distance to the teacher's probabilities."""
        total, metrics = 0.0, {}
        for name, student, teacher in _heads(out, batch, self.heads):
            p = _match(student, _full(teacher))
            pred = F.softmax(_full(student), dim=-1) if self.on_probs else _full(student)
            l2 = (pred - p).pow(2).sum(-1).mean()
            metrics[f"l2_{name}" if name else "l2"] = l2
            total = total + l2
        metrics["loss"] = total
        return total, _detach(metrics)


class ReconstructionLoss(nn.Module):
    """Mean squared error between ``out['reconstruction']`` and ``out['target']`` (an
    autoencoder's input, as the model saw it): SoundNet's autoencoder baseline."""

    def forward(self, batch: dict, out: dict) -> tuple[torch.Tensor, Metrics]:
        """Mean squared reconstruction error."""
        rec, target = _full(out["reconstruction"]), _full(out["target"])
        if rec.shape != target.shape:
            raise ConfigError(
                f"reconstruction {tuple(rec.shape)} and target {tuple(target.shape)} differ"
            )
        loss = (rec - target).pow(2).mean()
        return loss, _detach({"loss": loss})


def _detach(metrics: Metrics) -> Metrics:
    return {k: v.detach() for k, v in metrics.items()}
