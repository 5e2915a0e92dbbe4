"""Plans of the data sets (ten layouts): which files to render, with which labels, in which split.

A plan lists jobs (one source recording, clip, or batch of images each, with
the relative paths it writes) and the metadata files (csv, split lists) in
the real data set's format (ARCHITECTURE.md, "Data layouts"). Plans are cheap
and deterministic; rendering happens in ``render.py``, in parallel.

Protocol rules kept here: ESC folds keep every take of a source in one fold
(``{fold}-{src}-{take}-{target}.wav``); LRS2 test/val speakers never appear
in train/pretrain; UCF splits hold out blocks of groups as UCF101's three
splits do. Ids are random (they say nothing about class or generation
order) and jobs are shuffled, so neither names nor write order leak labels.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from avlib.data.world import actions, scenes, sounds, speech
from avlib.data.world.common import random_digit_ids, random_ids, rng_for
from avlib.data.world.presets import WorldPreset

DATASETS = (
    "esc50",
    "dcase2013",
    "kinetics_sounds",
    "flickr_soundnet",
    "audioset",
    "lrs2",
    "lrs2_sync",
    "lrs2_sync_30fps",
    "lrw",
    "ucf101",
    "hmdb51",
    "imagenet",
    "places",
)
AUDIOSET_LABELS = (  # display name -> world-local mid (real AudioSet mids are /m/...; these are /w/...)
    ("Speech", "/w/speech"),
    ("Male speech, man speaking", "/w/male_speech"),
    ("Female speech, woman speaking", "/w/female_speech"),
    ("Knock", "/w/knock"),
    ("Thump, thud", "/w/thump"),
    ("Clang", "/w/clang"),
    ("Tap", "/w/tap"),
    ("Bang", "/w/bang"),
)
IMAGES_PER_JOB = 20


@dataclass(frozen=True)
class Job:
    """One unit of rendering: a renderer name, the paths it writes (relative to the data set), its spec."""

    dataset: str
    index: int
    render: str
    outputs: tuple[str, ...]
    spec: dict = field(default_factory=dict)


@dataclass
class Plan:
    """Everything one data set needs: its jobs and its metadata files (relative path -> text)."""

    dataset: str
    jobs: list[Job]
    meta: dict[str, str]


def _csv(header: list[str] | None, rows: list[list]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _shuffled(
    dataset: str, rng: np.random.Generator, items: list[tuple[str, tuple, dict]]
) -> list[Job]:
    """Jobs in random order, indexed by that order (each index seeds its own renderer stream)."""
    return [Job(dataset, i, *items[k]) for i, k in enumerate(rng.permutation(len(items)))]


def plan_esc50(p: WorldPreset, seed: int) -> Plan:
    """ESC-50: one job per generated source (its takes), folds by source, meta/esc50.csv."""
    rng = rng_for(seed, "esc50", "plan")
    names = sorted(sounds.CLASS_NAMES)
    src_ids = iter(random_digit_ids(rng, len(names) * p.esc_sources_per_class, 6))
    items, rows = [], []
    for target, name in enumerate(names):
        # consecutive numbering over all sources: with a multiple of 5 per class, every class
        # has the same count in every fold; with fewer (smoke), folds stay balanced overall
        numbers = target * p.esc_sources_per_class + rng.permutation(p.esc_sources_per_class)
        for fold in numbers % 5 + 1:
            src = next(src_ids)
            takes = "ABCDEFGHIJ"[: p.esc_takes_per_source]
            outs = tuple(f"audio/{fold}-{src}-{t}-{target}.wav" for t in takes)
            items.append(("esc_source", outs, {"label": name, "source_id": src, "fold": int(fold)}))
            esc10 = str(sounds.BY_NAME[name].esc10)
            rows += [
                [o.split("/")[1], int(fold), target, name.replace(" ", "_"), esc10, src, t]
                for o, t in zip(outs, takes, strict=True)
            ]
    header = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
    return Plan(
        "esc50", _shuffled("esc50", rng, items), {"meta/esc50.csv": _csv(header, sorted(rows))}
    )


def plan_dcase2013(p: WorldPreset, seed: int) -> Plan:
    """DCASE 2013 scenes: one stereo recording per file, scenes_stereo/<scene><nn>.wav."""
    rng = rng_for(seed, "dcase2013", "plan")
    items = [
        ("dcase", (f"scenes_stereo/{scene}{nn:02d}.wav",), {"label": scene})
        for scene in scenes.SCENES
        for nn in range(1, p.dcase_per_class + 1)
    ]
    return Plan("dcase2013", _shuffled("dcase2013", rng, items), {})


def plan_kinetics_sounds(p: WorldPreset, seed: int) -> Plan:
    """Kinetics-Sounds: 34 classes in train/val/test, one csv with a split column."""
    rng = rng_for(seed, "kinetics_sounds", "plan")
    counts = dict(zip(("train", "val", "test"), p.ks_per_class, strict=True))
    ids = iter(random_ids(rng, len(sounds.KINETICS_SOUNDS) * sum(counts.values())))
    items, rows = [], []
    for label in sounds.KINETICS_SOUNDS:
        for split, count in counts.items():
            for _ in range(count):
                vid, start = next(ids), int(rng.integers(0, 290))
                end = start + p.ks_clip_s
                out = f"{split}/{label}/{vid}_{start:06d}_{end:06d}.mp4"
                scene = str(rng.choice(scenes.SCENES))
                independent = rng.random() < p.ks_bed_scene_independent
                bed_scene = str(rng.choice(scenes.SCENES)) if independent else scene
                items.append(
                    (
                        "scene_video",
                        (out,),
                        {
                            "classes": [label],
                            "scene": scene,
                            "bed_scene": bed_scene,
                            "duration": float(p.ks_clip_s),
                            "source_id": vid,
                            "unique_bed": True,
                        },
                    )
                )
                rows.append([label, vid, start, end, split])
    rows.sort(key=lambda r: r[1])
    meta = {
        "kinetics_sounds.csv": _csv(
            ["label", "youtube_id", "time_start", "time_end", "split"], rows
        )
    }
    return Plan("kinetics_sounds", _shuffled("kinetics_sounds", rng, items), meta)


def plan_flickr_soundnet(p: WorldPreset, seed: int) -> Plan:
    """Flickr-SoundNet: unlabelled scene videos with 0-2 sounding objects, listed in videos.txt."""
    rng = rng_for(seed, "flickr_soundnet", "plan")
    ids = random_digit_ids(rng, p.flickr_clips, 10)
    items = []
    for vid in ids:
        n_src = int(rng.choice(3, p=(0.2, 0.6, 0.2)))
        classes = [str(c) for c in rng.choice(sounds.KINETICS_SOUNDS, n_src, replace=False)]
        items.append(
            (
                "scene_video",
                (f"videos/{vid}.mp4",),
                {
                    "classes": classes,
                    "scene": str(rng.choice(scenes.SCENES)),
                    "duration": p.flickr_clip_s,
                    "source_id": vid,
                    "unique_bed": True,
                },
            )
        )
    meta = {"videos.txt": "".join(f"videos/{vid}.mp4\n" for vid in sorted(ids))}
    return Plan("flickr_soundnet", _shuffled("flickr_soundnet", rng, items), meta)


def _sentence(rng: np.random.Generator, n_words: int) -> list[str]:
    return [str(w) for w in rng.choice(list(speech.WORDS), n_words)]


def event_chunks(rng: np.random.Generator, n_chunks: int, counts: tuple[int, int]) -> list[int]:
    """The chunks of a clip that hold its synchronising event: one central chunk (every window
    one chunk shorter than the clip contains it) and more at random, ``counts`` in all."""
    centre = [(n_chunks - 1) // 2, n_chunks // 2]
    first = int(rng.choice(centre))
    count = int(np.clip(rng.integers(counts[0], counts[1] + 1), 1, n_chunks))
    others = [int(c) for c in rng.permutation([c for c in range(n_chunks) if c != first])]
    return sorted([first, *others[: count - 1]])


def plan_audioset(p: WorldPreset, seed: int) -> Plan:
    """AudioSet: speech (talking faces) and impact clips with segment csvs and a label index.

    Speech and impacts sound in some chunks of a clip only (``event_chunks``); the talker
    is silent and the object still or silent in the others, under the same ambience.
    """
    rng = rng_for(seed, "audioset", "plan")
    mids = dict(AUDIOSET_LABELS)
    ids = random_ids(rng, p.audioset_clips)
    n_chunks = int(round(p.audioset_clip_s / p.audioset_chunk_s))
    items, segments = [], {"balanced_train": [], "eval": []}
    for k, ytid in enumerate(ids):
        start = int(rng.integers(0, 300))
        end = start + p.audioset_clip_s
        out = f"clips/{ytid}_{start * 1000}_{end * 1000}.mp4"
        spec = {
            "duration": float(p.audioset_clip_s),
            "source_id": ytid,
            "chunk_s": p.audioset_chunk_s,
            "event_chunks": event_chunks(rng, n_chunks, p.audioset_event_chunks),
        }
        if k % 2 == 0:
            spk = int(rng.integers(p.n_speakers))
            gender = (
                "Female speech, woman speaking"
                if speaker_for(seed, spk).f0 > 160
                else "Male speech, man speaking"
            )
            spec |= {"speaker": spk, "labels": ["Speech", gender]}
            items.append(("chunked_talking", (out,), spec))
            labels = [mids["Speech"], mids[gender]]
        else:
            material = str(rng.choice(list(m for m, _ in AUDIOSET_LABELS[3:])))
            items.append(("impact", (out,), spec | {"material": material}))
            labels = [mids[material]]
        # a quarter of each kind to eval, dealt in order (ids are random: order tells nothing)
        split = "eval" if (k // 2) % 4 == 3 else "balanced_train"
        segments[split].append([ytid, f"{start:.3f}", f"{end:.3f}", ",".join(labels)])
    meta = {
        "class_labels_indices.csv": _csv(
            ["index", "mid", "display_name"],
            [[i, mid, name] for i, (name, mid) in enumerate(AUDIOSET_LABELS)],
        )
    }
    for split, rows in segments.items():
        n_labels = sum(len(r[3].split(",")) for r in rows)
        head = f"# Segments csv created by the avlib world generator\n# num_ytids={len(rows)}, num_segs={len(rows)}, num_unique_labels={len(AUDIOSET_LABELS)}, num_positive_labels={n_labels}\n# YTID, start_seconds, end_seconds, positive_labels\n"
        meta[f"{split}_segments.csv"] = head + "".join(
            f'{y}, {s}, {e}, "{labels}"\n' for y, s, e, labels in sorted(rows)
        )
    return Plan("audioset", _shuffled("audioset", rng, items), meta)


def speaker_for(seed: int, index: int) -> speech.Speaker:
    """Speaker ``index`` of the world (the same in LRS2, LRW and AudioSet)."""
    return speech.make_speaker(rng_for(seed, "speaker", index), f"spk{index:03d}")


def lrs2_speaker_pools(p: WorldPreset, seed: int) -> dict[str, np.ndarray]:
    """LRS2's speakers per split: val and test speakers never occur in train/pretrain."""
    order = rng_for(seed, "lrs2", "speakers").permutation(p.n_speakers)
    n_held = max(1, int(round(0.15 * p.n_speakers)))
    pools = {
        "val": order[:n_held],
        "test": order[n_held : 2 * n_held],
        "train": order[2 * n_held :],
    }
    return pools | {"pretrain": pools["train"]}


def plan_lrs2(p: WorldPreset, seed: int) -> Plan:
    """LRS2: sessions of one speaker each (pretrain/ and main/), split lists, held-out speakers;
    main/ utterances of 5-9 words and at least ``lrs2_min_s`` long."""
    rng = rng_for(seed, "lrs2", "plan")
    pools = lrs2_speaker_pools(p, seed)
    counts = dict(zip(("pretrain", "train", "val", "test"), p.lrs2_utterances, strict=True))
    n_ids = sum(-(-c // p.lrs2_utt_per_id) for c in counts.values())
    ids = iter(random_digit_ids(rng, n_ids, 19))
    items, lists = [], {}
    for split, count in counts.items():
        lists[split] = []
        folder = "pretrain" if split == "pretrain" else "main"
        for first in range(0, count, p.lrs2_utt_per_id):
            sid, spk = next(ids), int(rng.choice(pools[split]))
            for u in range(1, min(p.lrs2_utt_per_id, count - first) + 1):
                stem = f"{folder}/{sid}/{u:05d}"
                n_words = int(rng.integers(6, 13) if split == "pretrain" else rng.integers(5, 10))
                spec = {
                    "speaker": spk,
                    "words": _sentence(rng, n_words),
                    "source_id": sid,
                    "text": "lrs2",
                    "min_duration": 0.0 if split == "pretrain" else p.lrs2_min_s,
                }
                items.append(("talking", (f"{stem}.mp4", f"{stem}.txt"), spec))
                lists[split].append(f"{sid}/{u:05d}")
    meta = {
        f"{split}.txt": "".join(f"{line}\n" for line in sorted(rows))
        for split, rows in lists.items()
    }
    return Plan("lrs2", _shuffled("lrs2", rng, items), meta)


def plan_lrs2_sync(p: WorldPreset, seed: int, dataset: str = "lrs2_sync") -> Plan:
    """The sync test set: LRS2 layout (main/ + test.txt), test speakers, audio shifted by each
    of ``sync_offsets`` frames (``offset_s`` in the truth; positive: audio late)."""
    rng = rng_for(seed, "lrs2_sync", "plan")
    speakers = lrs2_speaker_pools(p, seed)["test"]
    offsets = np.repeat(p.sync_offsets, p.sync_clips_per_offset)
    ids = random_digit_ids(rng, len(offsets), 19)
    items, lines = [], []
    for sid, offset in zip(ids, rng.permutation(offsets), strict=True):
        stem = f"main/{sid}/00001"
        spec = {
            "speaker": int(rng.choice(speakers)),
            "words": _sentence(rng, int(rng.integers(5, 10))),
            "source_id": sid,
            "text": "lrs2",
            "min_duration": p.lrs2_min_s,
            "offset_s": round(int(offset) / p.fps, 6),
            "rng_from": "lrs2_sync",  # the 30 fps set re-encodes the same clips
        }
        render = "talking" if dataset == "lrs2_sync" else "talking_30fps"
        items.append((render, (f"{stem}.mp4", f"{stem}.txt"), spec))
        lines.append(f"{sid}/00001")
    jobs = [Job(dataset, i, r, outs, spec) for i, (r, outs, spec) in enumerate(items)]
    return Plan(dataset, jobs, {"test.txt": "".join(f"{x}\n" for x in sorted(lines))})


def plan_lrs2_sync_30fps(p: WorldPreset, seed: int) -> Plan:
    """The sync test set's clips re-encoded at 30 fps with 44.1 kHz audio (same shifts)."""
    return plan_lrs2_sync(p, seed, "lrs2_sync_30fps")


def plan_lrw(p: WorldPreset, seed: int) -> Plan:
    """LRW: words centred in 29-frame clips with context words, <WORD>/<split>/<WORD>_<nnnnn>."""
    rng = rng_for(seed, "lrw", "plan")
    vocab = list(speech.WORDS)[: p.lrw_words]
    items = []
    for word in vocab:
        for split, count in zip(("train", "val", "test"), p.lrw_per_word, strict=True):
            for k in range(1, count + 1):
                stem = f"{word}/{split}/{word}_{k:05d}"
                words = _sentence(rng, 2) + [word] + _sentence(rng, 2)
                spec = {
                    "speaker": int(rng.integers(p.n_speakers)),
                    "words": words,
                    "center_word": 2,
                    "duration": 1.16,
                    "source_id": f"{word}_{k:05d}",
                    "text": "lrw",
                    "labels": [word],
                }
                items.append(("talking", (f"{stem}.mp4", f"{stem}.txt"), spec))
    return Plan("lrw", _shuffled("lrw", rng, items), {})


def plan_ucf101(p: WorldPreset, seed: int) -> Plan:
    """UCF101: the 12 actions by groups (shared actor look, scene, tempo) and three split lists."""
    rng = rng_for(seed, "ucf101", "plan")
    block = max(
        1, round(p.ucf_groups * 7 / 25)
    )  # UCF101: splits test on groups 1-7, 8-14, 15-21 of 25
    items, train, test = [], {1: [], 2: [], 3: []}, {1: [], 2: [], 3: []}
    for ci, action in enumerate(actions.ACTIONS, start=1):
        for g in range(1, p.ucf_groups + 1):
            group = _group(rng)
            for c in range(1, p.ucf_clips_per_group + 1):
                rel = f"{action}/v_{action}_g{g:02d}_c{c:02d}.mp4"
                items.append(
                    (
                        "action",
                        (f"UCF-101/{rel}",),
                        {"action": action, "group": group, "source_id": f"g{g:02d}"},
                    )
                )
                for k in (1, 2, 3):
                    if (k - 1) * block < g <= k * block:
                        test[k].append(rel)
                    else:
                        train[k].append(f"{rel} {ci}")
    meta = {
        "ucfTrainTestlist/classInd.txt": "".join(
            f"{i} {a}\n" for i, a in enumerate(actions.ACTIONS, start=1)
        )
    }
    for k in (1, 2, 3):
        meta[f"ucfTrainTestlist/trainlist0{k}.txt"] = "".join(f"{r}\n" for r in train[k])
        meta[f"ucfTrainTestlist/testlist0{k}.txt"] = "".join(f"{r}\n" for r in test[k])
    return Plan("ucf101", _shuffled("ucf101", rng, items), meta)


def _group(rng: np.random.Generator, speed=(0.8, 1.25)) -> dict:
    """An actor's look, scene, tempo and pitch (shared by a UCF group, one HMDB clip's own)."""
    shapes = ["disc", "square", "triangle", "star", "hexagon", "cross", "ellipse", "diamond"]
    return {
        "scene": str(rng.choice(scenes.SCENES)),
        "look": [
            str(rng.choice(shapes)),
            str(rng.choice(["solid", "stripes", "checker", "dots", "rings"])),
            float(rng.random()),
        ],
        "speed": float(rng.uniform(*speed)),
        "pitch": float(np.exp(rng.uniform(np.log(100), np.log(400)))),
    }


def plan_hmdb51(p: WorldPreset, seed: int) -> Plan:
    """HMDB51: <class>/<video>.mp4 and testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt.

    Classes are the world's actions in HMDB's lower-case naming; each clip has its own actor,
    scene and tempo, and with ``hmdb_p_distractor`` a silent second actor. Each split marks,
    per class, 70 % of the used clips 1 (train) and 30 % 2 (test); a tenth are 0 (unused).
    """
    rng = rng_for(seed, "hmdb51", "plan")
    n = p.hmdb_clips_per_class
    ids = iter(random_ids(rng, len(actions.ACTIONS) * n))
    items, meta = [], {}
    for action in actions.ACTIONS:
        cls = action.lower()
        names = []
        for k in range(n):
            name = f"{next(ids)}_{cls}_{k}.mp4"
            spec = {
                "action": action,
                "group": _group(rng, speed=(0.7, 1.4)),
                "source_id": name.removesuffix(".mp4"),
                "distractor": bool(rng.random() < p.hmdb_p_distractor),
                "duration": p.hmdb_clip_s,
            }
            items.append(("action", (f"{cls}/{name}",), spec))
            names.append(name)
        unused = n // 10
        n_test = round(0.3 * (n - unused))
        for s in (1, 2, 3):
            order = rng.permutation(n)
            mark = np.full(n, 1)
            mark[order[:n_test]] = 2
            mark[order[n_test : n_test + unused]] = 0
            meta[f"testTrainMulti_7030_splits/{cls}_test_split{s}.txt"] = "".join(
                f"{name} {m} \n" for name, m in zip(names, mark, strict=True)
            )
    return Plan("hmdb51", _shuffled("hmdb51", rng, items), meta)


def _plan_images(
    dataset: str, p: WorldPreset, seed: int, classes: tuple[str, ...], objects: bool
) -> Plan:
    rng = rng_for(seed, dataset, "plan")
    n_total = len(classes) * sum(p.images_per_class)
    ids = iter(random_ids(rng, n_total, 12, chars=np.array(list("0123456789abcdef"))))
    images = []
    for cls in classes:
        for split, count in zip(("train", "val"), p.images_per_class, strict=True):
            images += [(f"{split}/{cls}/{next(ids)}.png", cls) for _ in range(count)]
    order = rng.permutation(len(images))
    items = []
    for start in range(0, len(images), IMAGES_PER_JOB):
        batch = [images[k] for k in order[start : start + IMAGES_PER_JOB]]
        items.append(
            (
                "image",
                tuple(path for path, _ in batch),
                {"classes": [c for _, c in batch], "objects": objects},
            )
        )
    return Plan(dataset, _shuffled(dataset, rng, items), {})


def plan_imagenet(p: WorldPreset, seed: int) -> Plan:
    """ImageNet analogue: the 34 bound objects on scene backgrounds, ImageFolder train/val."""
    return _plan_images("imagenet", p, seed, sounds.KINETICS_SOUNDS, objects=True)


def plan_places(p: WorldPreset, seed: int) -> Plan:
    """Places analogue: the 10 scene backgrounds, ImageFolder train/val."""
    return _plan_images("places", p, seed, scenes.SCENES, objects=False)


PLANNERS = {name: globals()[f"plan_{name}"] for name in DATASETS}
