"""The "Run it on real data" page (``notebooks/07_real_data.ipynb``), computed, not typed.

For each real data set the papers use, :func:`guide` gives the layout
``data_root`` must hold, what ``avlib data check`` prints for a tiny tree in
that layout (the smoke world's copy, checked at build time), the papermill
command of every chapter that reads it (chapters list the data sets they read
in ``DATA``) and where that run's results go (``results/real/<name>-<digest>/``,
:func:`avlib.results.scope_dir`), apart from the world's.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from avlib import chapters, experiments
from avlib.data.check import check
from avlib.data.layouts import BY_NAME
from avlib.errors import ConfigError
from avlib.profiles import seeds_for
from avlib.results import scope_dir


@dataclass(frozen=True)
class RealDataset:
    """A real data set: its name, the layout avlib reads it in, and that layout as a tree."""

    key: str  # the world's directory of the same layout, and the name chapters use in DATA
    name: str
    layout: str  # avlib.data.layouts name
    tree: str  # what the directory holds, as the reader expects it
    home: str  # where the data set is published


DATASETS = (
    RealDataset("esc50", "ESC-50", "esc50", """\
esc50/
  meta/esc50.csv             filename,fold,target,category,esc10,src_file,take
  audio/{fold}-{src}-{take}-{target}.wav     5 s clips, any rate (resampled)""",
                "github.com/karolpiczak/ESC-50"),
    RealDataset("dcase2013", "DCASE 2013 (acoustic scenes)", "dcase2013", """\
dcase2013/
  scenes_stereo/<class><nn>.wav      e.g. bus01.wav ... tubestation10.wav; stereo (downmixed)""",
                "c4dm.eecs.qmul.ac.uk/sceneseventschallenge"),
    RealDataset("kinetics_sounds", "Kinetics-Sounds", "kinetics_sounds", """\
kinetics_sounds/
  kinetics_sounds.csv        label,youtube_id,time_start,time_end,split
  <split>/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4     split: train, val, test""",
                "deepmind.com/research/open-source/kinetics (the 34-class subset of L3)"),
    RealDataset("audioset", "AudioSet", "audioset", """\
audioset/
  class_labels_indices.csv   index,mid,display_name
  balanced_train_segments.csv, eval_segments.csv
                             YTID, start_seconds, end_seconds, positive_labels (3 '#' lines)
  clips/<YTID>_<start_ms>_<end_ms>.mp4""", "research.google.com/audioset"),
    RealDataset("lrs2", "LRS2", "lrs2", """\
lrs2/
  main/<id>/<utt>.mp4 and <utt>.txt      'Text:  WORDS', a blank line, 'WORD START END' lines
  pretrain/<id>/<utt>.mp4 and <utt>.txt
  pretrain.txt, train.txt, val.txt, test.txt     one '<id>/<utt>' per line""",
                "robots.ox.ac.uk/~vgg/data/lip_reading/lrs2.html"),
    RealDataset("lrw", "LRW", "lrw", """\
lrw/
  <WORD>/{train,val,test}/<WORD>_<nnnnn>.mp4 and .txt     'Duration: x.xx seconds'""",
                "robots.ox.ac.uk/~vgg/data/lip_reading/lrw1.html"),
    RealDataset("ucf101", "UCF101", "ucf101", """\
ucf101/
  UCF-101/<Class>/v_<Class>_g<gg>_c<cc>.avi (or .mp4)
  ucfTrainTestlist/classInd.txt, trainlist0{1,2,3}.txt, testlist0{1,2,3}.txt""",
                "crcv.ucf.edu/data/UCF101.php"),
    RealDataset("hmdb51", "HMDB51", "hmdb51", """\
hmdb51/
  <class>/<video>.avi
  testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt     '<video>.avi 1|2|0'""",
                "serre-lab.clps.brown.edu/resource/hmdb"),
    RealDataset("imagenet", "ImageNet (ILSVRC-12)", "imagefolder", """\
imagenet/
  train/<class>/<image>.JPEG
  val/<class>/<image>.JPEG         (val sorted into class folders, as torchvision expects)""",
                "image-net.org"),
    RealDataset("places", "Places", "imagefolder", """\
places/
  train/<class>/<image>.jpg
  val/<class>/<image>.jpg""", "places2.csail.mit.edu"),
    RealDataset("flickr_soundnet", "Flickr-SoundNet (unlabelled video)", "flickr_soundnet", """\
flickr_soundnet/
  videos.txt                 one relative path per line, e.g. videos/<id>.mp4
  videos/<id>.mp4""", "soundnet.csail.mit.edu"),
)  # fmt: skip
BY_KEY = {d.key: d for d in DATASETS}
EXAMPLE_PRESET = "smoke"  # the tiny world whose copies of the layouts are checked
DATA_ROOT = "/data"  # the directory a user keeps the data sets in, in the commands shown


def get(key: str) -> RealDataset:
    """The real data set ``key`` (ConfigError naming the known ones otherwise)."""
    if key not in BY_KEY:
        raise ConfigError(f"unknown real data set {key!r}: one of {', '.join(BY_KEY)}")
    return BY_KEY[key]


def readers(key: str) -> list:
    """The chapter modules that read data set ``key`` (their ``DATA``), in the book's order."""
    get(key)
    return [m for m in chapters.modules().values() if key in getattr(m, "DATA", ())]


def check_text(key: str, world_root: str | Path) -> str | None:
    """What ``avlib data check <key>`` prints for the world's copy of the layout (the path shown
    relative, as a user would type it); None when this build has no reader or no copy of it."""
    d = get(key)
    example = Path(world_root) / d.key
    if d.layout not in BY_NAME or not example.is_dir():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(example.resolve(), Path(tmp) / d.key)
        with contextlib.chdir(tmp):
            report = check(d.key)
    return f"$ avlib data check {d.key}\n{report.to_text()}"


def papermill_command(module, profile: str = "full", device: str = "cuda") -> str:
    """The command that runs a chapter's notebook on the real data sets under :data:`DATA_ROOT`."""
    nb = module.NOTEBOOK
    return (
        f"papermill notebooks/{nb}.ipynb {nb}-real.ipynb -k avbook -p data_root {DATA_ROOT} "
        f"-p profile {profile} -p device {device}"
    )


def results_listing(module, profile: str = "full") -> str:
    """The results files that command writes (one per experiment and seed), under the real data
    set's own results tree."""
    tree = scope_dir(Path("results"), DATA_ROOT)
    lines = []
    for name in getattr(module, "EXPERIMENTS", ()):
        paper = experiments.get(name).paper
        seeds = ",".join(str(s) for s in seeds_for(profile))
        lines.append(f"{tree}/{profile}/{paper}/{name}/seed{{{seeds}}}.json")
    return "\n".join(lines)


def guide(key: str, world_root: str | Path, profile: str = "full") -> str:
    """The page's section on one data set, as Markdown."""
    d = get(key)
    parts = [
        f"Published at {d.home}. Layout avlib reads (`data_root` may be this directory or "
        f"one holding it beside others):",
        f"```text\n{d.tree}\n```",
    ]
    if d.layout not in BY_NAME:
        parts.append(
            f"This build has no `{d.layout}` reader yet: it comes with the chapter that reads "
            "this data set, and `avlib data check` then recognises the layout."
        )
    text = check_text(key, world_root)
    if text is not None:
        parts += [
            "`avlib data check` on a tiny tree in this layout (the smoke world's copy):",
            f"```text\n{text}\n```",
        ]
    users = [m for m in readers(key) if getattr(m, "NOTEBOOK", None)]
    if not users:
        parts.append("No merged chapter reads it yet.")
    for m in users:
        others = ", ".join(f"`{k}/`" for k in m.DATA)
        parts += [
            f"**{m.TITLE}** reads {others} from `data_root` "
            f"(keep them side by side under `{DATA_ROOT}`):",
            f"```bash\n{papermill_command(m, profile)}\n```",
            f"and writes its results apart from the world's, under its data's own tree "
            f"(named after `{DATA_ROOT}` and a digest of its full path):",
            f"```text\n{results_listing(m, profile)}\n```",
        ]
    return "\n\n".join(parts)
