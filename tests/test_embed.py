"""`avlib embed` and its functions: embeddings and timestamps of arrays and of files (wav, mp4,
44.1 kHz stereo), shapes as documented, errors that name the file, checkpoints read safely."""

import datetime

import numpy as np
import pytest
import soundfile as sf
import torch

from avlib import cli, embed
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


@pytest.mark.parametrize("model", sorted(embed.UNAVAILABLE))
def test_models_of_unmerged_chapters_say_so(model, capsys):
    assert cli.main(["embed", "audio", "x.wav", "--model", model]) == 2
    assert "not available until the" in capsys.readouterr().err
