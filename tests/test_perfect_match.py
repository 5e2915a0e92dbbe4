"""Perfect Match: SyncNet's streams are exact over windows, candidates come from audio strips,
the experiment runs on the real layouts, and `avlib sync-offset` reports offsets with the
stated sign at any frame rate and fails in one line naming the file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from avlib.cli import main
from avlib.data.cache import DecodedCache
from avlib.data.encode import write_video
from avlib.data.layouts import open_dataset
from avlib.errors import ConfigError
from avlib.eval.sync import collapse_check, context_distances, min_frames
from avlib.experiments import run
from avlib.experiments.perfect_match import SETUPS, sync_scores
from avlib.models import build, get_config
from avlib.models.sync import samples_per_frame
from avlib.models.sync_streams import WINDOW
from avlib.results import load_result
from avlib.sync_offset import (
    find_model,
    known_shift_accuracy,
    load_model,
    predict,
    read_clip,
    save_model,
)
from tests import trees
from tests.mediafiles import flash_click, ramp_frames


def test_whole_clip_features_equal_the_features_of_each_window():
    torch.manual_seed(0)
    model = build("multiway", "smoke").eval()
    spf, t = samples_per_frame(model.cfg), 20
    video, audio = torch.rand(1, 3, t, 64, 64), torch.randn(1, t * spf) * 0.1
    with torch.no_grad():
        v, a = model.sync_features(video, audio)
        assert v.shape[1] == a.shape[1] == t - 6
        for i in (0, 7, t - 7):  # row i: the window starting at frame i + 1, audio [i, i + 7)
            vi = model.embed_video(video[:, :, i + 1 : i + 1 + WINDOW])
            ai = model.embed_audio(audio[:, i * spf : (i + 7) * spf])
            assert torch.allclose(v[0, i], vi[0], atol=1e-5)
            assert torch.allclose(a[0, i], ai[0], atol=1e-5)


@pytest.mark.parametrize("name", ["multiway", "syncnet"])
def test_candidates_from_audio_strips_equal_candidate_windows(name):
    torch.manual_seed(0)
    model = build(name, "smoke").eval()
    batch, _ = type(model).example(model.cfg, 6)
    spf = samples_per_frame(model.cfg)
    strips, pos = batch["audio"][batch["audio_strip"]], batch["audio_position"]
    windows = torch.stack(
        [
            torch.stack([s[p * spf : (p + 7) * spf] for p in row])
            for s, row in zip(strips, pos, strict=True)
        ]
    )
    as_windows = {k: v for k, v in batch.items() if not k.startswith("audio")} | {"audio": windows}
    with torch.no_grad():
        a, b = model(batch), model(as_windows)
    assert torch.allclose(a["audio_emb"], b["audio_emb"], atol=1e-5)


def test_paper_config_is_syncnets_streams():
    cfg = get_config("multiway", "paper")
    model = build("multiway", "paper").eval()
    assert (cfg.embed_dim, cfg.mouth_size, cfg.sr, cfg.fps, cfg.n_candidates) == (
        1024, 112, 16_000, 25, 40,
    )  # fmt: skip
    mfcc = model.audio.features(torch.zeros(1, 7 * samples_per_frame(cfg)))
    assert mfcc.shape == (1, 1, 13, 20), "13 MFCCs x 20 steps (0.2 s)"
    conv1 = model.video.conv1[0][0]
    assert (conv1.in_channels, conv1.kernel_size) == (5, (7, 7)), "5 frames x 7 x 7"
    with torch.no_grad():
        v = model.video_sequence(torch.rand(1, 3, 6, cfg.frame_size, cfg.frame_size))
    assert v.shape == (1, 2, 1024)


class _Envelope(torch.nn.Module):
    """A stand-in sync model: the brightness of each window's middle frame vs the loudness of
    its audio, so a flash and a click k frames later must come out at offset +k."""

    def __init__(self):
        super().__init__()
        self.cfg = get_config("multiway", "smoke")
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def sync_features(self, video, audio, box=None):
        spf, n = samples_per_frame(self.cfg), video.shape[2] - 6
        bright = video.mean(dim=(1, 3, 4))
        loud = audio[:, : video.shape[2] * spf].reshape(1, -1, spf).abs().amax(-1)
        v, a = bright[:, 3 : 3 + n, None], loud[:, 3 : 3 + n, None]
        return v / v.max(), a / a.max()


@pytest.mark.parametrize("shift, fps, sr", [(5, 30, 44_100), (-6, 30, 44_100), (0, 25, 22_050)])
def test_offset_sign_survives_frame_rate_and_sample_rate_conversion(tmp_path, shift, fps, sr):
    frames, audio = flash_click(3 * fps, fps, sr, flash_frame=fps + fps // 5, offset_s=shift / 25)
    path = write_video(tmp_path / f"flash{fps}.mp4", frames, fps, audio, sr)
    stub = _Envelope()
    video, wave, box, info = read_clip(path, stub.cfg)
    assert (info.fps, info.sr, video.shape[2]) == (fps, sr, 74)  # read at 25 fps, 3 s - 1 frame
    assert predict(stub, video, wave, box).offset == shift, "positive = audio late"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "sync.pt"
    save_model(path, build("multiway", "smoke"), "multiway", profile="smoke", seed=0)
    return path


def test_model_files_round_trip_with_weights_only(model_file):
    model = load_model(model_file)
    ckpt = torch.load(model_file, weights_only=True)
    assert ckpt["model"] == "multiway" and ckpt["trained"] == {"profile": "smoke", "seed": 0}
    assert all(torch.equal(model.state_dict()[k], v) for k, v in ckpt["state_dict"].items())
    assert not model.training and model.cfg == get_config("multiway", "smoke")


def test_cli_reports_offsets_as_json_and_plots(tmp_path, model_file, capsys):
    clip = trees.av_clip(tmp_path / "talk.mp4", seconds=2.0, fps=30, sr=44_100)
    code = main(["sync-offset", str(clip), "--model", str(model_file), "--json",
                 "--plot", str(tmp_path / "curve.png")])  # fmt: skip
    assert code == 0
    (out,) = json.loads(capsys.readouterr().out)
    assert out["file"] == str(clip) and -15 <= out["offset_frames"] <= 15
    assert out["offset_ms"] == pytest.approx(40.0 * out["offset_frames"])
    assert out["confidence"] >= 0 and (out["input_fps"], out["input_sr"]) == (30, 44_100)
    assert (tmp_path / "curve.png").stat().st_size > 0


def test_cli_errors_are_one_line_naming_the_file(tmp_path, model_file, capsys):
    good = trees.av_clip(tmp_path / "good.mp4", seconds=2.0)
    silent = write_video(tmp_path / "silent.mp4", ramp_frames(50), 25)
    short = trees.av_clip(tmp_path / "short.mp4", seconds=1.0)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 10)
    for bad, why in ((silent, "no audio stream"), (short, "too short"), (broken, "unreadable")):
        code = main(["sync-offset", str(good), str(bad), "--model", str(model_file)])
        out, err = capsys.readouterr()
        assert code == 2 and str(good) in out
        assert len(err.strip().splitlines()) == 1 and str(bad) in err and why in err, err


def test_cli_without_a_model_says_how_to_train_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AVBOOK_ROOT", str(tmp_path))
    clip = trees.av_clip(tmp_path / "talk.mp4", seconds=2.0)
    assert main(["sync-offset", str(clip)]) == 2
    assert "avlib train pm-sync --profile quick" in capsys.readouterr().err


def test_cli_names_a_missing_video_before_looking_for_a_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AVBOOK_ROOT", str(tmp_path))  # no model anywhere either
    clip = trees.av_clip(tmp_path / "talk.mp4", seconds=2.0)
    assert main(["sync-offset", str(clip), str(tmp_path / "tlak.mp4")]) == 2
    err = capsys.readouterr().err
    assert "tlak.mp4: no such video file" in err and "pm-sync" not in err, err


def test_protocol_windows_need_every_offset_inside():
    v = np.random.default_rng(0).standard_normal((min_frames(15, 5) + 3, 4))
    assert context_distances(v, v, 15, 5).shape == (4, 31)
    assert not np.isnan(context_distances(v, v, 15, 5)).any()
    assert context_distances(v[:30], v[:30], 15, 5).shape == (0, 31)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """pm-sync at smoke on small trees in LRS2's and LRW's real layouts."""
    base = tmp_path_factory.mktemp("real")
    trees.lrs2(base / "data" / "lrs2")
    trees.lrw(base / "data" / "lrw", media=True)
    path = run("pm-sync", "smoke", 0, "cpu", base / "results", runs_dir=base / "runs",
               progress=False, data_root=base / "data")  # fmt: skip
    return base, path


def test_pm_sync_runs_on_real_layouts_apart_from_world_results(real_run):
    base, path = real_run
    assert path.is_relative_to(base / "results" / "real")
    rec = load_result(path)
    m = rec["metrics"]
    for short in ("multiway", "syncnet", "avenet"):
        assert all(0 <= m[f"acc_{short}_k{k}"] <= 1 for k in SETUPS["smoke"].contexts)
        assert 0 <= m[f"words_acc_{short}"] <= 1
    assert not any(k.startswith("shifted_") for k in m), "real data has no known shifts"
    skipped = rec["data"]["datasets"]["lrs2_train"]["skipped"]
    assert [s["path"].split("/")[-2] for s in skipped] == ["5000103"], "the 1 s clip"
    assert rec["data"]["datasets"]["lrs2_train"]["items"] == 4  # pretrain + 3 train clips
    (exported,) = (base / "runs").rglob("pm-sync/seed0/sync_model.pt")
    assert load_model(exported).cfg == get_config("multiway", "smoke")


def test_a_collapsed_model_answers_the_edge_and_is_caught(real_run):
    base, _ = real_run

    class Collapsed(_Envelope):
        def sync_features(self, video, audio, box=None):
            n = video.shape[2] - 6
            return torch.ones(1, n, 8), torch.ones(1, n, 8)

    cfg = get_config("multiway", "smoke")
    index = open_dataset(base / "data" / "lrs2", "lrs2").subset(split="test")
    arrays = DecodedCache(base / "cache").load(index, fps=25, size=cfg.frame_size, sr=cfg.sr,
                                               dur_s=2.4, progress=False)  # fmt: skip
    scores = sync_scores(Collapsed(), arrays, SETUPS["smoke"])
    pred = scores["_pred_k5"]
    assert (pred == -15).all() and scores["acc_k5"] == 0.0
    assert collapse_check(pred, 15, true_offsets=np.zeros_like(pred)).collapsed


def test_known_shift_sets_score_the_cli_rule_against_the_truth_file(tmp_path):
    """An LRS2-layout set of flash/click clips with their shifts in avbook_truth.jsonl, at
    30 fps / 44.1 kHz: the stand-in model finds every shift, so the share is 1."""
    truth, names = [], []
    for k, shift in enumerate((-4, 0, 6)):
        frames, audio = flash_click(90, 30, 44_100, flash_frame=36, offset_s=shift / 25)  # 1.2 s
        rel = f"main/{6_000_000 + k}/00001.mp4"
        write_video(tmp_path / rel, frames, 30, audio, 44_100)
        (tmp_path / rel).with_suffix(".txt").write_text("Text:  HELLO\nConf:  4\n")
        truth.append(json.dumps({"path": rel, "offset_s": shift / 25}))
        names.append(rel.removeprefix("main/").removesuffix(".mp4"))
    (tmp_path / "test.txt").write_text("\n".join(names) + "\n")
    (tmp_path / "avbook_truth.jsonl").write_text("\n".join(truth) + "\n")
    out = known_shift_accuracy(tmp_path, _Envelope())
    assert [(t, p) for _, t, p in out["rows"]] == [(-4, -4), (0, 0), (6, 6)]
    assert out["accuracy"] == 1.0 and out["clips"] == 3


def test_avenet_starts_with_a_small_distance_meaning_a_match():
    model = build("sync-avenet", "smoke")
    logits = model.fusion(torch.tensor([[0.0], [2.0]]))
    assert logits[0, 1] > logits[0, 0] and logits[1, 0] > logits[1, 1]


@pytest.mark.parametrize("name", ["multiway", "syncnet", "sync-avenet", "sync-words"])
def test_full_profile_models_run_forward_and_backward(name):
    model = build(name, "full")
    batch, loss = type(model).example(model.cfg, 2)
    value, _ = loss(batch, model(batch))
    value.backward()
    assert torch.isfinite(value)


@pytest.mark.slow
@pytest.mark.parametrize("sync_set", ["lrs2_sync", "lrs2_sync_30fps"])
def test_quick_model_finds_the_known_shifts(sync_set):
    """Acceptance: with the quick model (trained by `avlib train pm-sync --profile quick`),
    sync-offset is within ±1 frame on >= 90 % of the quick world's known-shift clips at 25 fps
    and re-encoded at 30 fps / 44.1 kHz. Skipped until that model and world exist."""
    from avlib.profiles import project_root

    root = project_root() / "data" / "quick" / sync_set
    try:
        path = find_model()
    except ConfigError:
        pytest.skip("no quick sync model yet (avlib train pm-sync --profile quick --seed 0)")
    if not root.is_dir():
        pytest.skip(f"no {root} (avlib data generate --preset quick)")
    assert known_shift_accuracy(root, load_model(path))["accuracy"] >= 0.9
