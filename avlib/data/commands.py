"""`avlib data generate|check`: write the procedural world; say what a data root holds.

`avlib cache info|clear`: the decoded cache's tables and size; empty it.
"""

from __future__ import annotations


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _cache(args) -> int:
    from avlib.data.cache import DecodedCache, disk_usage

    cache = DecodedCache(args.dir)
    if args.cache_action == "clear":
        freed = cache.clear()
        print(f"{cache.dir}: cleared, {_size(freed)} freed")
        return 0
    tables = cache.info()
    for t in tables:
        rows = "?" if t["rows"] is None else f"{t['entries']}/{t['rows']} rows"
        failed = f", {t['failed']} undecodable" if t["failed"] else ""
        print(f"{t['table']}: {rows}{failed}, {_size(t['bytes'])}")
    print(f"{cache.dir}: {len(tables)} table(s), {_size(disk_usage(cache.dir))} in all")
    return 0


def _generate(args) -> int:
    from avlib.data.world import generate_world, read_manifest

    out = generate_world(
        args.preset,
        out=args.out,
        seed=args.seed,
        only=args.only,
        workers=args.workers,
        force=args.force,
    )
    manifest = read_manifest(out)
    counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"].items())
    print(f"world {manifest['preset']} (seed {manifest['seed']}) at {out}: {counts}")
    return 0


def add_parser(sub) -> None:
    """`avlib data generate` and `avlib data check`."""
    from avlib.data.check import add_check_parser

    p = sub.add_parser("data", help="generate the procedural world; check a data root")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    g = actions.add_parser(
        "generate", help="write the world's data sets (skipped when already complete)"
    )
    g.add_argument("--preset", default="quick", help="smoke | quick | full (default quick)")
    g.add_argument("--out", default=None, help="world root (default <project>/data/<preset>)")
    g.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    g.add_argument("--only", default=None, help="comma-separated data sets, e.g. esc50,lrw")
    g.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    g.add_argument(
        "--force", action="store_true", help="regenerate even when a complete manifest exists"
    )
    g.set_defaults(func=_generate)
    add_check_parser(actions)

    c = sub.add_parser("cache", help="size of the decoded cache; empty it")
    c_actions = c.add_subparsers(dest="cache_action", required=True, metavar="ACTION")
    for name, text in (
        ("info", "list the cache's tables (settings, rows, bytes on disk)"),
        ("clear", "remove every table (waits for a build in progress; rebuilt on next use)"),
    ):
        a = c_actions.add_parser(name, help=text)
        a.add_argument(
            "--dir", default=None, help="cache directory (default <project>/data/.cache)"
        )
        a.set_defaults(func=_cache)
