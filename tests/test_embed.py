"""`avlib embed` and its functions: embeddings and timestamps of arrays and of files (wav, mp4,
44.1 kHz stereo), shapes as documented, errors that name the file, checkpoints read safely."""

import dataclasses
import datetime

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from avlib import cli, embed, models
from avlib.data.encode import write_audio
from avlib.errors import ConfigError, DataError, MediaError, TrainingError
from avlib.losses import CrossEntropyLoss
from avlib.models import build
from avlib.models.l3 import example_batch
from avlib.train import TrainConfig, train
from tests.mediafiles import tone
from tests.trees import av_clip


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A smoke L3-Net trained for one step by avlib's trainer, where the l3-avc run keeps it."""
    runs = tmp_path_factory.mktemp("root") / "runs"
    folder = runs / "quick" / "l3" / "l3-avc" / "seed0" / "l3"
    model = build("l3", "smoke")
    cfg = TrainConfig(epochs=1, max_steps=1, checkpoint_dir=str(folder), progress=False)
    train(model, CrossEntropyLoss(), [example_batch(model.cfg, 4)], cfg)
    return folder / "last.pt"


@pytest.fixture(scope="module")
def l3(checkpoint):
    return embed.load("l3", checkpoint, preset="smoke")


def test_trainer_checkpoints_load_with_weights_only_and_find_their_preset(checkpoint):
    weights = embed.read_weights(checkpoint)
    assert all(torch.is_tensor(v) for v in weights.values())
    e = embed.load("l3", checkpoint)  # the path says quick, the shapes say smoke
    assert e.preset == "smoke" and (e.sr, e.window_s, e.frame_size) == (8000, 1.0, 32)
    with pytest.raises(ConfigError, match="fit l3 at no preset"):
        embed.load("l3", checkpoint, preset="quick")


def test_audio_windows_every_hop_centred_from_zero(l3):
    emb, ts = embed.embed_audio(tone(440, 2.0, 8000), 8000, embedder=l3, hop_s=0.25)
    assert emb.shape == (9, 16) and emb.dtype == np.float32  # 0, 0.25, ..., 2.0 s; D = width
    assert np.allclose(ts, np.arange(9) * 0.25)
    short, ts_short = embed.embed_audio(tone(440, 0.3, 8000), 8000, embedder=l3)
    assert short.shape == (4, 16) and ts_short[0] == 0  # shorter than a window: padded, kept


def test_channels_either_way_and_any_rate_give_the_same_embedding(l3):
    stereo = tone(440, 1.5, 44100, channels=2)  # (2, S) at 44.1 kHz
    a, ta = embed.embed_audio(stereo, 44100, embedder=l3)
    b, tb = embed.embed_audio(stereo.T, 44100, embedder=l3)  # (S, 2)
    mono = embed.embed_audio(stereo.mean(axis=0), 44100, embedder=l3)[0]
    assert np.allclose(a, b) and np.allclose(a, mono) and np.allclose(ta, tb)
    with pytest.raises(ConfigError, match="channels"):
        embed.embed_audio(np.zeros((20, 30)), 8000, embedder=l3)
    with pytest.raises(ConfigError, match="NaN"):
        embed.embed_audio(np.full(8000, np.nan), 8000, embedder=l3)
    with pytest.raises(ConfigError, match="empty"):
        embed.embed_audio(np.zeros(0), 8000, embedder=l3)


def test_video_frames_every_hop_resized_to_the_networks_input(l3):
    frames = (np.random.default_rng(0).random((50, 40, 60, 3)) * 255).astype(np.uint8)
    emb, ts = embed.embed_video(frames, 25, embedder=l3, hop_s=0.2)
    assert emb.shape == (10, 16) and np.allclose(ts, np.arange(10) * 0.2)
    floats, _ = embed.embed_video(frames / 255.0, 25, embedder=l3, hop_s=0.2)
    assert np.allclose(emb, floats, atol=1e-4)  # uint8 and [0, 1] floats are the same frames


def test_files_give_one_npz_with_shapes_and_what_was_converted(l3, tmp_path):
    wav = write_audio(tmp_path / "stereo44k.wav", tone(440, 2.0, 44100, channels=2), 44100)
    out = embed.embed_file(wav, "audio", l3, hop_s=0.5, out_dir=tmp_path / "out")
    with np.load(out) as saved:
        assert out.name == "stereo44k_audio.npz"
        assert saved["embedding"].shape == (5, 16) and saved["timestamps"].shape == (5,)
        note = str(saved["note"])
    assert "2 channels averaged to mono" in note and "resampled from 44100 Hz to 8000 Hz" in note
    mp4 = av_clip(tmp_path / "clip.mp4", seconds=2.0, sr=16000)
    for modality, n in (("video", 10), ("audio", 11)):
        with np.load(embed.embed_file(mp4, modality, l3, hop_s=0.2)) as saved:
            assert saved["embedding"].shape == (n, 16), modality
            assert np.allclose(np.diff(saved["timestamps"]), 0.2)


def test_errors_name_the_file(l3, tmp_path):
    fake = tmp_path / "not_audio.wav"
    fake.write_text("hello")
    with pytest.raises(MediaError, match="not_audio.wav"):
        embed.embed_file(fake, "audio", l3)
    silent_film = tmp_path / "no_sound.wav"
    write_audio(silent_film, tone(440, 0.5, 8000), 8000)
    with pytest.raises(MediaError, match="no_sound.wav: no video stream"):
        embed.embed_file(silent_film, "video", l3)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 8000)  # a valid wav with no samples
    with pytest.raises(DataError, match="empty.wav"):
        embed.embed_file(empty, "audio", l3)


def test_checkpoints_that_are_not_weights_are_refused_by_name(tmp_path):
    bad = tmp_path / "evil.pt"  # an arbitrary object: weights_only loading refuses to build it
    torch.save({"model": datetime.date(2020, 1, 1)}, bad)
    with pytest.raises(TrainingError, match="evil.pt: not loadable with torch.load"):
        embed.read_weights(bad)
    torch.save({"step": 1, "optimizer": {}}, tmp_path / "no_model.pt")  # no weights in it
    with pytest.raises(TrainingError, match="no_model.pt: holds no model weights"):
        embed.read_weights(tmp_path / "no_model.pt")


def test_without_a_checkpoint_the_newest_quick_run_is_used_or_how_to_train_one(
    checkpoint, tmp_path, monkeypatch
):
    monkeypatch.setenv("AVBOOK_ROOT", str(tmp_path))
    with pytest.raises(TrainingError, match="avlib train l3-avc --profile quick --seed 0"):
        embed.load("l3")
    monkeypatch.setenv("AVBOOK_ROOT", str(checkpoint.parents[6]))  # the root holding runs/
    assert embed.load("l3").checkpoint == checkpoint


def test_cli_writes_npz_and_says_what_it_did(checkpoint, tmp_path, capsys):
    wav = write_audio(tmp_path / "a.wav", tone(440, 1.0, 22050, channels=2), 22050)
    args = ["embed", "audio", str(wav), "--checkpoint", str(checkpoint), "--out", str(tmp_path)]
    assert cli.main([*args, "--hop", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "a_audio.npz: embedding 3 x 16" in out and "resampled from 22050 Hz" in out
    assert (tmp_path / "a_audio.npz").exists()
    assert cli.main(["embed", "audio", str(tmp_path / "missing.wav"), "--checkpoint",
                     str(checkpoint)]) == 2  # fmt: skip
    assert "missing.wav" in capsys.readouterr().err


@dataclasses.dataclass
class ToyConfig:
    sr: int = 4000
    clip_s: float = 0.5
    width: int = 3


def config(preset, **overrides):  # the family function the models registry calls for ToyAudio
    return dataclasses.replace(ToyConfig(), **overrides)


class ToyAudio(nn.Module):
    """An audio-only model as a chapter would register it: embed_audio and a Config."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg, self.proj = cfg, nn.Linear(1, cfg.width)

    def embed_audio(self, x):
        return self.proj(x.abs().mean(dim=1, keepdim=True))


def test_any_registered_model_that_embeds_is_a_model_choice(tmp_path, monkeypatch, capsys):
    models.names()  # the registry's own families first
    monkeypatch.setitem(models._REGISTRY, "toy", models.Entry("toy", ToyAudio, {}))
    folder = tmp_path / "runs" / "quick" / "toy" / "toy-exp" / "seed0" / "toy"
    folder.mkdir(parents=True)
    torch.save({"model": ToyAudio(ToyConfig()).state_dict()}, folder / "last.pt")
    monkeypatch.setenv("AVBOOK_ROOT", str(tmp_path))
    assert "toy" in embed.names() and "l3" in embed.names()
    wav = write_audio(tmp_path / "a.wav", tone(440, 1.0, 8000), 8000)
    assert cli.main(["embed", "audio", str(wav), "--model", "toy", "--hop", "0.25"]) == 0
    with np.load(tmp_path / "a_audio.npz") as saved:
        assert saved["embedding"].shape == (5, 3) and str(saved["model"]) == "toy"
        assert "resampled from 8000 Hz to 4000 Hz" in str(saved["note"])
    assert cli.main(["embed", "video", str(wav), "--model", "toy"]) == 2
    assert "model toy embeds no video (it embeds audio)" in capsys.readouterr().err
    assert cli.main(["embed", "audio", "x.wav", "--model", "nope"]) == 2
    assert "no registered model embeds under that name; choose one of" in capsys.readouterr().err


@pytest.mark.parametrize("model", sorted(embed.COMING))
def test_models_of_unmerged_chapters_say_so(model, capsys):
    if model in embed.names():
        pytest.skip(f"{model} is registered on this branch")
    assert cli.main(["embed", "audio", "x.wav", "--model", model]) == 2
    assert "embeds once its chapter registers its models" in capsys.readouterr().err


@pytest.mark.slow
def test_files_of_the_world_embed_with_their_documented_shapes(checkpoint, tmp_path, capsys):
    """The world's ESC-50 wav, DCASE stereo wav and Kinetics mp4 (the smoke world the notebooks
    use): N windows at every hop from 0 s to the end for audio, one frame per hop for video."""
    from avlib.data.media import probe
    from avlib.data.world import ensure_world

    world = ensure_world("smoke")
    files = [next((world / "esc50" / "audio").glob("*.wav")),
             next((world / "dcase2013" / "scenes_stereo").glob("*.wav")),
             next((world / "kinetics_sounds").rglob("*.mp4"))]  # fmt: skip
    hop = 0.25
    args = ["embed", "audio", *map(str, files), "--checkpoint", str(checkpoint), "--hop", str(hop)]
    assert cli.main([*args, "--out", str(tmp_path)]) == 0
    for f in files:
        with np.load(tmp_path / f"{f.stem}_audio.npz") as saved:
            n = int(np.floor(probe(f).duration_s / hop + 1e-6)) + 1
            assert saved["embedding"].shape == (n, 16), f.name
            assert np.allclose(saved["timestamps"], np.arange(n) * hop)
            if probe(f).channels == 2:
                assert "2 channels averaged to mono" in str(saved["note"])
    assert any(probe(f).channels == 2 for f in files)  # the DCASE scenes are stereo
    assert cli.main(["embed", "video", str(files[2]), "--checkpoint", str(checkpoint),
                     "--hop", str(hop), "--out", str(tmp_path)]) == 0  # fmt: skip
    with np.load(tmp_path / f"{files[2].stem}_video.npz") as saved:
        n = int(np.ceil(probe(files[2]).duration_s / hop - 1e-6))
        assert abs(saved["embedding"].shape[0] - n) <= 1 and saved["embedding"].shape[1] == 16
        assert np.allclose(np.diff(saved["timestamps"]), hop)
    assert "embedding" in capsys.readouterr().out
