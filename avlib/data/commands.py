"""`avlib data generate|check`: write the procedural world; say what a data root holds."""

from __future__ import annotations


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
