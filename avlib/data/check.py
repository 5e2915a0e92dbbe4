"""`avlib data check ROOT`: which layout a directory is in, what it holds, and what is wrong with it.

ROOT is one data set, or a world root holding several (each is checked).
Every problem the layout's reader finds is counted (malformed, duplicate or
out-of-range rows, unknown classes, targets or splits, missing files, text
that is not UTF-8, a byte-order mark); ``probe=True`` also opens every media
file's headers, so unreadable files, files without the stream their layout
needs (an mp4 without audio or without video) and files whose duration
disagrees with their csv times are counted too. ``strict=True`` stops at the
first problem with a typed error naming the file. Exit status: 0 clean, 1
problems found, 2 an error (unreadable root, or any problem with --strict).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from avlib.data.index import DataIndex, Skip, duration_problem
from avlib.data.layouts import BY_NAME, detect_layout, find_datasets, open_dataset
from avlib.data.media import load_image, probe
from avlib.data.readers import IMAGE_SUFFIXES
from avlib.errors import DataError, LayoutError, MediaError, MissingStreamError
from avlib.profiles import check_data_root

SHOW = 20  # skips and classes listed per data set in the text report


@dataclass
class DatasetReport:
    """One data set's layout, counts per split / fold / class, and problems."""

    name: str
    layout: str
    root: str
    n_items: int
    n_classes: int
    counts: dict[str, dict[str, int]]
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[Skip] = field(default_factory=list)  # problems that dropped no row


@dataclass
class CheckReport:
    """Everything `avlib data check` found under one root."""

    root: str
    datasets: list[DatasetReport]

    @property
    def problems(self) -> int:
        """Rows and files that were skipped, and warnings, over all data sets."""
        return sum(len(d.skipped) + len(d.warnings) for d in self.datasets)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)

    def to_text(self) -> str:
        """A human-readable report."""
        lines = [f"{self.root}: {len(self.datasets)} data set(s), {self.problems} problem(s)"]
        for d in self.datasets:
            lines.append(f"\n{d.name}: layout {d.layout}, {d.n_items} items, {d.n_classes} classes")
            for what in ("split", "fold"):
                if d.counts.get(what):
                    lines.append(
                        f"  per {what}: "
                        + ", ".join(f"{k} {v}" for k, v in sorted(d.counts[what].items()))
                    )
            classes = sorted(d.counts.get("class", {}).items())
            if classes:
                more = f", ... ({len(classes) - SHOW} more)" if len(classes) > SHOW else ""
                lines.append(
                    "  per class: " + ", ".join(f"{k} {v}" for k, v in classes[:SHOW]) + more
                )
            if d.skipped:
                lines.append(f"  skipped {len(d.skipped)}:")
                for s in d.skipped[:SHOW]:
                    where = f" ({Path(s.source).name} line {s.line})" if s.line is not None else ""
                    lines.append(f"    {s.path}: {s.reason}{where}")
                if len(d.skipped) > SHOW:
                    lines.append(f"    ... and {len(d.skipped) - SHOW} more")
            for w in d.warnings:
                where = f" ({Path(w.source).name} line {w.line})" if w.line is not None else ""
                lines.append(f"  warning: {w.path}: {w.reason}{where}")
            lines += [f"  note: {n}" for n in d.notes]
        return "\n".join(lines)


def check(root: str | Path, *, strict: bool = False, probe_media: bool = False) -> CheckReport:
    """Read every data set at ``root`` and report layouts, counts and problems."""
    root = check_data_root(root)
    try:
        found = {root.name: detect_layout(root)}
        dirs = {root.name: root}
    except LayoutError:
        found = find_datasets(root)
        if not found:
            raise
        dirs = {name: root / name for name in found}
    reports = []
    for name, layout in found.items():
        try:
            index = open_dataset(dirs[name], layout, strict=strict)
        except DataError as e:  # e.g. a csv header without its columns: the data set is unread
            if strict:
                raise
            problem = Skip(str(e.path or dirs[name]), f"{type(e).__name__}: {e.problem}")
            reports.append(
                DatasetReport(name, layout, str(dirs[name]), 0, 0, {}, [problem], ["not read"])
            )
            continue
        skipped = list(index.skipped)
        if probe_media:
            skipped += probe_items(index, BY_NAME[layout].streams, strict=strict)
        reports.append(
            DatasetReport(
                name,
                layout,
                str(dirs[name]),
                len(index),
                len(index.classes),
                index.counts(),
                skipped,
                index.notes,
                list(index.warnings),
            )
        )
    return CheckReport(str(root), reports)


def probe_items(index: DataIndex, streams: tuple[str, ...], *, strict: bool = False) -> list[Skip]:
    """Open every item's headers (decode images, whose headers say too little): unreadable
    files, a missing ``streams`` track and a duration that disagrees with the item's segment
    times are problems (the first one raised if strict)."""
    found = []
    for item in index.items:
        try:
            if item.path.suffix.lower() in IMAGE_SUFFIXES:  # an image's header says too little
                load_image(item.path)
                continue
            info = probe(item.path)
            missing = [s for s in streams if not getattr(info, f"has_{s}")]
            if missing:
                raise MissingStreamError(
                    item.path,
                    f"no {' and no '.join(missing)} stream",
                    f"{index.layout} media need {' and '.join(streams)}",
                )
            mismatch = duration_problem(item, info.duration_s)
            if mismatch:
                raise MediaError(item.path, mismatch)
        except DataError as e:
            if strict:
                raise
            found.append(Skip(str(item.path), f"{type(e).__name__}: {e.problem}"))
    return found


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="a data set directory, or a world root holding several")
    p.add_argument(
        "--strict", action="store_true", help="stop at the first problem (exit status 2)"
    )
    p.add_argument(
        "--probe",
        action="store_true",
        help="also open every media file: unreadable, missing audio/video stream, csv times "
        "that disagree with the duration",
    )
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    report = check(args.root, strict=args.strict, probe_media=args.probe)
    print(report.to_text())
    if args.json:
        from avlib.atomic import write_json

        write_json(args.json, report.to_dict())
    return 1 if report.problems else 0


def add_check_parser(data_subparsers) -> None:
    """Register `check` under the `avlib data` command's subparsers."""
    _add_arguments(
        data_subparsers.add_parser(
            "check", help="say which layout ROOT is in, count it, list problems"
        )
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m avlib.data.check ROOT`: the same as `avlib data check ROOT`."""
    parser = argparse.ArgumentParser(
        prog="python -m avlib.data.check", description=__doc__.splitlines()[0]
    )
    _add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Exception as e:
        from avlib.cli import error_message

        print(error_message("data check", e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
