import subprocess
import sys

from avlib.cli import build_parser


def _run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "avlib", *args], capture_output=True, text=True, cwd=cwd
    )


def test_help_lists_exactly_the_registered_subcommands():
    out = _run("--help")
    assert out.returncode == 0
    sub = build_parser()._subparsers._group_actions[0]
    names = set(sub.choices)
    assert names, "no subcommands registered"
    for name in names:
        assert name in out.stdout
        assert _run(name, "--help").returncode == 0, name


def test_errors_are_one_line_messages_with_exit_code_2():
    out = _run("notebooks", "run", "--profile", "fast")
    assert out.returncode == 2
    assert "unknown profile 'fast'" in out.stderr
    assert "Traceback" not in out.stderr
