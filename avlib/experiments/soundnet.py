"""SoundNet runs (PAPERS.md §4); the chapter is ``avlib/chapters/soundnet.py``.

Two image teachers label the frames of the unlabelled Flickr-SoundNet analogue
(objects: trained on the ImageNet analogue, scenes: on the Places analogue; or
torchvision weights found on disk,
:func:`~avlib.experiments.soundnet_teachers.teacher_weights`). They are trained
once per profile and data (seed ``Setup.teacher_seed``) and shared by every
student seed, as the paper's students all learnt from the same two networks;
each frame's teacher outputs are computed once per clip and run, and a
student's target for a window is the mean of its frames' distributions at the
model's ``temperature``. Four experiments, each one results file per seed
under results/<profile>/soundnet/:

- ``soundnet-student``: the main net (8 layers, KL, both teachers) with its
  held-out agreement with the teachers after every epoch (the learning curve);
  a linear SVM (C = 0.01) on every layer's features of 1 s windows (pooled to
  a fixed number of time steps, PCA to one dimension for all layers), a clip's
  prediction the mean decision value of its windows, on the ESC-50 analogue's
  folds; the best layer's full features on ESC-50, ESC-10 and DCASE; scene
  recognition on the Flickr clips from sound, vision (the object teacher's
  features) and both.
- ``soundnet-ablations``: the same student with the L2 loss, with the object
  teacher only, the scene teacher only, and the 5-layer net; each probed on
  ESC-50 at every layer (equal dimension), its best layer read.
- ``soundnet-scratch``: the 8- and 5-layer nets trained on ESC-50's labels
  (four folds, tested on the fifth: fold ``seed % 5 + 1``).
- ``soundnet-baselines``: MFCC + linear SVM (the world chapter's) and a
  convolutional autoencoder trained on the Flickr clips' audio, probed as the
  students.

The last two are in :mod:`avlib.experiments.soundnet_baselines`.

Deviations: windows of ``clip_s`` (1 s at quick) instead of 20 s crops; one
output distribution per window, matched to the mean of its frames' teacher
distributions; the teachers are small torchvision nets trained on the world's
images; every net trains with Adam and a cosine schedule with warm-up; the
probes' time pooling and PCA are ours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from avlib.data.cache import ClipArrays
from avlib.data.datasets import Batches
from avlib.data.layouts import open_dataset
from avlib.data.readers import esc10
from avlib.data.samplers.base import Windows
from avlib.data.samplers.crops import CropSampler
from avlib.eval.probes import extract_features, fold_probe, sliding_windows
from avlib.experiments import RunContext, RunOutput, register
from avlib.experiments.common import (
    data_record,
    load_audio_clips,
    load_clips,
    split_by_position,
    train_config,
)
from avlib.experiments.soundnet_teachers import (
    TEACHERS,
    frame_features,
    frame_logits,
    soft_targets,
    teachers,
)
from avlib.models import build, get_config
from avlib.train import TrainResult, train

PAPER = "soundnet"
EXPERIMENTS = ("soundnet-student", "soundnet-ablations", "soundnet-scratch", "soundnet-baselines")
ABLATIONS = {  # run name -> (model, overrides): the paper's loss, teacher and depth ablations
    "l2": ("soundnet", {"loss": "l2"}),
    "objects": ("soundnet", {"heads": ("objects",)}),
    "scenes": ("soundnet", {"heads": ("scenes",)}),
    "five": ("soundnet5", {}),
}
TSNE_POINTS = 600


@dataclass(frozen=True)
class Setup:
    """Data, budget and evaluation of the SoundNet experiments at one profile."""

    fps: int = 4  # frames per second the teachers label
    flickr_s: float = 3.0  # seconds read from each Flickr-SoundNet clip (the world's length)
    val_every: int = 5  # every 5th Flickr clip is held out (the students' learning curves)
    teacher_seed: int = 0  # the teachers are trained once, for every student seed
    teacher_steps: int = 150  # the object teacher (held-out top-1 21.5 % at quick, still rising)
    scene_teacher_steps: int = 50  # the scene teacher: 94 % held-out after 36 steps at quick
    student_steps: int = 250  # every student (main and ablations alike)
    scratch_steps: int = 300  # each net trained from scratch on ESC-50's labels
    autoencoder_steps: int = 300
    epoch_steps: int = 50  # steps between held-out evaluations (the learning curve's points)
    warmup: float = 0.05  # share of the steps spent warming the learning rate up
    esc_s: float = 5.0  # seconds of each ESC-50 clip (all of it)
    dcase_s: float = 10.0  # seconds of each DCASE clip (real: 30 s)
    window_hop_s: float = 1.0  # probes: windows of the model's clip_s, every hop
    svm_C: float = 0.01  # the paper's linear SVM
    probe_grid: int = 2  # each layer max-pooled to this many time steps per window ...
    probe_dim: int = 32  # ... then PCA to this many dimensions (equal for every layer)
    tsne_points: int = TSNE_POINTS


SETUPS = {
    "smoke": Setup(
        fps=2,
        flickr_s=2.0,
        val_every=4,
        teacher_steps=6,
        scene_teacher_steps=6,
        student_steps=6,
        scratch_steps=6,
        autoencoder_steps=6,
        epoch_steps=3,
        dcase_s=4.0,
        probe_dim=4,
        tsne_points=40,
    ),
    # quick, measured on 2 cores (two runs side by side, one thread each; student steps at 300,
    # probe_grid 4, 11,025 Hz): the teachers once, 75 s (in the notebook, two threads); per seed,
    # soundnet-student 84-101 s (training 30 s; the SVMs of the full-dimension probes 32 s),
    # soundnet-ablations 141-144 s, soundnet-scratch 67-70 s, soundnet-baselines 28-33 s; the
    # notebook 653 s, over its 600: hence 250 student steps, 50 scene-teacher steps and a
    # 2-step probe grid
    "quick": Setup(),
    "full": Setup(
        flickr_s=4.0,
        teacher_steps=3000,
        scene_teacher_steps=3000,
        student_steps=6000,
        scratch_steps=3000,
        autoencoder_steps=3000,
        epoch_steps=250,
        dcase_s=30.0,
        probe_grid=16,
        probe_dim=128,
    ),
}


def _config(*models: tuple[str, dict]):
    def config(profile: str) -> dict:
        record = {
            f"{m}{'-' + '-'.join(f'{k}={v}' for k, v in kw.items()) if kw else ''}": asdict(
                get_config(m, profile, **kw)
            )
            for m, kw in models
        }
        return {**record, "setup": asdict(SETUPS[profile])}

    return config


_TEACHERS = ("soundnet-teacher", {})
_STUDENT = ("soundnet", {})


# --- data ---------------------------------------------------------------------------------------


def _flickr(ctx: RunContext, setup: Setup, sr: int, size: int) -> tuple[ClipArrays, ClipArrays]:
    """Train and held-out Flickr-SoundNet clips: frames at the teachers' size, audio at ``sr``."""
    index = open_dataset(ctx.dataset("flickr_soundnet"))
    train_i, val_i = split_by_position(index, setup.val_every)
    return tuple(
        load_clips(i, dur_s=setup.flickr_s, fps=setup.fps, size=size, sr=sr, progress=ctx.progress)
        for i in (train_i, val_i)
    )


def _audio(ctx: RunContext, layout: str, dur_s: float, sr: int) -> ClipArrays:
    index = open_dataset(ctx.dataset(layout))
    return load_audio_clips(index, dur_s=dur_s, sr=sr, progress=ctx.progress)


class CropBatches(Batches):
    """Random ``window`` crops of clips' audio (``audio`` (B,S)) with, per crop, the mean of its
    frames' teacher distributions (``teacher_probs`` {head: (B,K)}) or the clip's ``label``."""

    def __init__(self, audio, samples_per_frame: int, sampler, batch_size: int, *,
                 probs: dict | None = None, drop_last: bool = True):  # fmt: skip
        self.audio, self.spf, self.probs = audio, samples_per_frame, probs
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last
        self.rank, self.world_size, self._resumed = 0, 1, False

    def batch(self, w: Windows) -> dict:
        """The windows' audio, and their targets."""
        n = self.sampler.audio_frames
        first = w.audio_start * self.spf
        index = first[:, None] + np.arange(n * self.spf)
        out = {
            "audio": self.audio[w.audio_clip[:, None], index],
            "label": torch.from_numpy(w.label),
        }
        if self.probs is not None:
            frames = w.video_start[:, None] + np.arange(n)
            out["teacher_probs"] = {
                h: p[w.video_clip[:, None], frames].mean(dim=1) for h, p in self.probs.items()
            }
        return out


def _crops(arrays: ClipArrays, fps: int, clip_s: float, batch: int, samples: int, seed: int,
           probs=None, labels=None, drop_last=True) -> CropBatches:  # fmt: skip
    """Crops of ``clip_s`` from ``arrays`` in steps of 1 / fps seconds."""
    spf = arrays.sr // fps
    clip_frames = arrays.audio.shape[1] // spf
    sampler = CropSampler(len(arrays), clip_frames, round(clip_s * fps), labels=labels,
                          samples_per_epoch=samples, seed=seed)  # fmt: skip
    audio = torch.from_numpy(arrays.waveform(np.arange(len(arrays))))
    return CropBatches(audio, spf, sampler, batch, probs=probs, drop_last=drop_last)


def _fixed_crops(arrays: ClipArrays, fps: int, clip_s: float, probs=None, labels=None):
    """Every clip's back-to-back windows, once (held-out evaluation)."""
    spf, win = arrays.sr // fps, round(clip_s * fps)
    clip_frames = arrays.audio.shape[1] // spf
    starts = np.arange(0, clip_frames - win + 1, win)
    clips = np.repeat(np.arange(len(arrays)), len(starts))
    data = _crops(arrays, fps, clip_s, 256, len(clips), 0, probs, labels, drop_last=False)
    zeros = np.zeros(len(clips), np.int64)
    start = np.tile(starts, len(arrays))
    label = data.sampler.labels[clips]
    fixed = Windows(clips, start, clips, start, label, zeros, zeros)
    data.sampler.windows = lambda epoch=None: fixed  # the same windows at every epoch
    data.sampler.set_epoch(0)
    return data


# --- students -----------------------------------------------------------------------------------


@torch.no_grad()
def _agreement(model, batches, device: str) -> dict[str, float]:
    """Held-out top-1 agreement of the student's heads with the teachers' (mean over time) and the
    KL divergence; ``acc`` is the mean agreement over heads."""
    model.eval()
    hits, kl, n = {}, {}, 0
    for batch in batches:
        out = model({"audio": batch["audio"].to(device)})["logits"]
        for h, target in batch["teacher_probs"].items():
            q = F.log_softmax(out[h].float(), dim=-1).mean(dim=1)
            p = target.to(device)
            hits[h] = hits.get(h, 0) + int((q.argmax(1) == p.argmax(1)).sum())
            kl[h] = kl.get(h, 0.0) + float((torch.special.xlogy(p, p) - p * q).sum())
        n += len(batch["audio"])
    out = {f"agree_{h}": v / n for h, v in hits.items()}
    out |= {f"kl_{h}": v / n for h, v in kl.items()}
    out["acc"] = float(np.mean([out[f"agree_{h}"] for h in hits]))
    return out


def _majority(probs: dict[str, torch.Tensor], heads) -> float:
    """Agreement of a student that always answers each head's most frequent teacher top-1."""
    rates = []
    for h in heads:
        top = probs[h].argmax(dim=1)
        rates.append(float(torch.bincount(top).max()) / len(top))
    return float(np.mean(rates))


def _curve_gain(result: TrainResult, key: str = "val_acc") -> float:
    """Held-out metric gained over the last quarter of training: a flattened curve gains ~0."""
    history = [h for h in result.history if key in h]
    last = history[-1]
    quarter = min(history, key=lambda h: abs(h["step"] - 0.75 * last["step"]))
    return float(last[key] - quarter[key])


def train_student(ctx, name, model, flickr, logits, setup, steps):
    """A student on the train clips' crops, with its held-out agreement every epoch."""
    cfg = model.cfg
    train_a, val_a = flickr
    probs = [soft_targets({h: lg[h] for h in cfg.heads}, cfg.temperature) for lg in logits]
    data = _crops(train_a, setup.fps, cfg.clip_s, cfg.batch_size,
                  setup.epoch_steps * cfg.batch_size, ctx.seed, probs=probs[0])  # fmt: skip
    val = _fixed_crops(val_a, setup.fps, cfg.clip_s, probs=probs[1])
    tc = train_config(ctx, name, steps, len(data), lr=cfg.lr, weight_decay=cfg.weight_decay,
                      scheduler="cosine", warmup_steps=round(setup.warmup * steps))  # fmt: skip
    result = train(model, model.loss_fn(), data, tc, val_data=val,
                   val_fn=lambda m, b: _agreement(m, b, ctx.device))  # fmt: skip
    held = _agreement(model, val, ctx.device)
    target = {h: torch.cat([b["teacher_probs"][h] for b in val]) for h in cfg.heads}
    metrics = {
        "agreement": held["acc"],
        "agreement_majority": _majority(target, cfg.heads),
        "agreement_gain_last_quarter": _curve_gain(result),
        **{k: v for k, v in held.items() if k.startswith(("agree_", "kl_"))},
    }
    return result, metrics


# --- probes -------------------------------------------------------------------------------------


def window_features(model, arrays: ClipArrays, layers, clip_s: float, setup: Setup, device: str):
    """Every layer's features of ``clip_s`` windows every ``window_hop_s`` of every clip, pooled
    to ``probe_grid`` time steps, and the clip of each window: ({layer: (W, D)}, (W,))."""
    win, hop = round(clip_s * arrays.sr), round(setup.window_hop_s * arrays.sr)

    def batches():
        for c in range(0, len(arrays), 16):
            chunk = np.arange(c, min(c + 16, len(arrays)))
            windows, owner = sliding_windows(torch.from_numpy(arrays.waveform(chunk)), win, hop)
            yield {"audio": windows, "clip": torch.from_numpy(chunk[owner])}

    feats = extract_features(model, batches(), "audio", layers, keep=("clip",), pool="grid",
                             grid=setup.probe_grid, device=device)  # fmt: skip
    return {layer: feats[layer] for layer in layers}, feats["clip"]


def probe(features: np.ndarray, clips: np.ndarray, arrays: ClipArrays, setup: Setup, pca=None):
    """The paper's protocol: linear SVM (C = 0.01) on windows, a clip's decision the mean of its
    windows', over the data set's own folds."""
    folds = np.array([arrays.items[c].fold for c in clips])
    return fold_probe(features, arrays.labels[clips], folds, C=setup.svm_C, clip_ids=clips,
                      seed=0, pca=pca)  # fmt: skip


def clip_means(x: np.ndarray, clips: np.ndarray, n: int) -> np.ndarray:
    """Each of ``n`` clips' mean over its window rows of ``x``: (n, D)."""
    return np.stack([x[clips == c].mean(axis=0) for c in range(n)])


def layer_probes(model, arrays: ClipArrays, setup: Setup, device: str, prefix: str = "esc50"):
    """ESC-50 accuracy of every layer at equal dimension: {f'{prefix}_acc_{layer}': acc}, the best
    layer, and the window features (for the best layer's probes with the paper's protocol).

    The per-layer SVMs read each clip's mean window feature, one row per clip: the same for
    every net compared (students, ablations, autoencoder), and at quick 4.5 s for nine layers
    instead of 13.2 s on every window (one core), which kept 04_soundnet within its budget."""
    layers = [n for n in model.feature_taps("audio") if not n.startswith("pool") or n == "pool5"]
    feats, clips = window_features(model, arrays, layers, model.cfg.clip_s, setup, device)
    own = np.arange(len(arrays))
    scores = {}
    for layer in layers:
        means = clip_means(feats[layer], clips, len(arrays))
        dim = min(setup.probe_dim, means.shape[1])
        scores[layer] = probe(means, own, arrays, setup, pca=dim).accuracy
    best = max(scores, key=scores.get)
    metrics = {f"{prefix}_acc_{layer}": v for layer, v in scores.items()}
    return metrics, best, feats, clips


def _student_setup(ctx: RunContext, model_name: str = "soundnet"):
    """Setup, the teachers, the Flickr clips and each frame's teacher logits (once per run)."""
    setup = SETUPS[ctx.profile]
    models, metrics, runs, data = teachers(ctx, setup)
    cfg = get_config(model_name, ctx.profile)
    size = get_config("soundnet-teacher", ctx.profile).frame_size
    flickr = _flickr(ctx, setup, cfg.sr, size)
    logits = [{h: frame_logits(t, a, ctx.device) for h, t in models.items()} for a in flickr]
    data |= {"flickr_train": flickr[0], "flickr_val": flickr[1]}
    return setup, models, metrics, runs, data, flickr, logits


def _student(ctx, name, model_name, flickr, logits, setup, **overrides):
    sizes = {f"n_{h}": logits[0][h].shape[-1] for h in TEACHERS}
    model = build(model_name, ctx.profile, **sizes, **overrides)
    result, metrics = train_student(ctx, name, model, flickr, logits, setup, setup.student_steps)
    return model, result, metrics


def _multimodal(ctx, model, layer, teacher, flickr, setup) -> dict:
    """Scene recognition on the Flickr clips (their world truth): linear SVMs on sound (the
    student's ``layer``, mean over windows), vision (the object teacher's features, mean over
    frames) and both, 5 folds by position; {} when the clips carry no scene truth."""
    scenes = [(i.truth or {}).get("scene") for a in flickr for i in a.items]
    if any(s is None for s in scenes):
        return {}
    names = sorted(set(scenes))
    labels = np.array([names.index(s) for s in scenes])
    sound, vision = [], []
    for a in flickr:
        feats, clips = window_features(model, a, [layer], model.cfg.clip_s, setup, ctx.device)
        x = feats[layer]
        sound.append(clip_means(x, clips, len(a)))
        vision.append(frame_features(teacher, a, ctx.device))
    sound, vision = np.concatenate(sound), np.concatenate(vision)
    folds = np.arange(len(labels)) % 5
    std = [(x - x.mean(0)) / (x.std(0) + 1e-6) for x in (sound, vision)]
    out = {}
    for key, x in (("sound", sound), ("vision", vision), ("both", np.concatenate(std, 1))):
        out[f"scene_acc_{key}"] = fold_probe(x, labels, folds, C=setup.svm_C, seed=0).accuracy
    return out


@register("soundnet-teachers", paper=PAPER, config=_config(_TEACHERS))
def soundnet_teachers(ctx: RunContext) -> RunOutput:
    """The object and scene teachers, trained once for every student seed: held-out top-1."""
    _, metrics, runs, data = teachers(ctx, SETUPS[ctx.profile])
    return RunOutput(metrics, runs or None, data=data_record(**data))


@register("soundnet-student", paper=PAPER, config=_config(_TEACHERS, _STUDENT))
def soundnet_student(ctx: RunContext) -> RunOutput:
    """The 8-layer student (KL, both teachers): per-layer probes, ESC-50 / ESC-10 / DCASE, scenes."""
    setup, teach, metrics, runs, data, flickr, logits = _student_setup(ctx)
    model, runs["student"], student = _student(ctx, "student", "soundnet", flickr, logits, setup)
    metrics |= student
    sr = model.cfg.sr
    esc = _audio(ctx, "esc50", setup.esc_s, sr)
    layers, best, feats, clips = layer_probes(model, esc, setup, ctx.device)
    metrics |= layers
    metrics["esc50_acc_best_layer"] = layers[f"esc50_acc_{best}"]
    full = probe(feats[best], clips, esc, setup)
    metrics["esc50_acc"] = full.accuracy
    rows = np.array([bool(esc.items[c].extra.get("esc10")) for c in clips])
    if rows.any():
        ten = esc10(open_dataset(ctx.dataset("esc50")))
        names = {i.rel: i.label for i in ten.items}
        sub = ClipArrays(**{**esc.__dict__, "labels": np.array(
            [names.get(i.rel, -1) for i in esc.items])})  # fmt: skip
        metrics["esc10_acc"] = probe(feats[best][rows], clips[rows], sub, setup).accuracy
    dcase = _audio(ctx, "dcase2013", setup.dcase_s, sr)
    d_feats, d_clips = window_features(model, dcase, [best], model.cfg.clip_s, setup, ctx.device)
    metrics["dcase_acc"] = probe(d_feats[best], d_clips, dcase, setup).accuracy
    metrics |= _multimodal(ctx, model, best, teach["objects"], flickr, setup)
    metrics["best_layer_index"] = list(model.feature_taps("audio")).index(best)
    pool5 = "pool5" if "pool5" in feats else best
    per_clip = clip_means(feats[pool5], clips, len(esc))
    shown = np.sort(np.random.default_rng(ctx.seed).permutation(len(esc))[: setup.tsne_points])
    predicted = np.array([full.predictions[c] for c in range(len(esc))])
    arrays = {
        "pool5": per_clip[shown],
        "labels": esc.labels[shown],
        "esc_true": esc.labels,
        "esc_predicted": predicted,
        "conv1_filters": model.body.conv1[0].weight.detach().cpu().numpy()[:, 0],
    }
    data |= {"esc50": esc, "dcase2013": dcase}
    extra = {"best_layer": best, "classes": esc.classes, "sr": sr}
    return RunOutput(metrics, runs, extra, arrays, data_record(**data))


@register(
    "soundnet-ablations",
    paper=PAPER,
    config=_config(_TEACHERS, *((m, kw) for m, kw in ABLATIONS.values())),
)
def soundnet_ablations(ctx: RunContext) -> RunOutput:
    """The loss (L2), teacher (objects or scenes only) and depth (5 layers) ablations on ESC-50."""
    setup, _, metrics, runs, data, flickr, logits = _student_setup(ctx)
    esc = None
    for name, (model_name, overrides) in ABLATIONS.items():
        model, runs[name], student = _student(ctx, name, model_name, flickr, logits, setup,
                                              **overrides)  # fmt: skip
        metrics |= {f"{k}_{name}": v for k, v in student.items()}
        if esc is None:
            esc = _audio(ctx, "esc50", setup.esc_s, model.cfg.sr)
        layers, best, _, _ = layer_probes(model, esc, setup, ctx.device, prefix=f"esc50_{name}")
        metrics |= layers
        metrics[f"esc50_acc_{name}"] = layers[f"esc50_{name}_acc_{best}"]
    data["esc50"] = esc
    return RunOutput(metrics, runs, {}, {}, data_record(**data))
