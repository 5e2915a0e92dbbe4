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


def _boom(error):
    def run(args):
        raise error

    return run


def _check_raising(monkeypatch, error):
    import avlib.data.check as check

    monkeypatch.setattr(check, "_run", _boom(error))


def test_an_unexpected_error_is_one_line_with_a_pointer_to_debug(monkeypatch, capsys, tmp_path):
    from avlib.cli import main

    _check_raising(monkeypatch, KeyError("config"))
    assert main(["data", "check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "avlib data: error: KeyError: 'config'"
    assert "avlib --debug data" in err and "Traceback" not in err and len(err.splitlines()) == 2


def test_debug_prints_the_traceback_and_still_exits_2(monkeypatch, capsys, tmp_path):
    from avlib.cli import main

    _check_raising(monkeypatch, UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "invalid byte"))
    assert main(["--debug", "data", "check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "UnicodeDecodeError" in err


def test_a_full_disk_is_named_as_such(monkeypatch, capsys, tmp_path):
    import errno

    from avlib.cli import main

    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "r.json"))
    _check_raising(monkeypatch, full)
    assert main(["data", "check", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"avlib data: error: {tmp_path / 'r.json'}: no space left on device while writing (free "
        "space or point the cache / results / runs directory elsewhere; the previous version of "
        "the file, if any, is unchanged)"
    )


def test_a_bad_input_that_escapes_a_reader_still_exits_2_in_a_real_process(tmp_path):
    """A non-UTF-8 header (a bare UnicodeDecodeError before) through the real entry point."""
    root = tmp_path / "esc50"
    (root / "meta").mkdir(parents=True)
    (root / "meta" / "esc50.csv").write_bytes(b"filen\xe9me,fold,target,category\n")
    out = _run("data", "check", str(root))  # counted: exit 1, the problem in the report
    assert out.returncode == 1 and "the header is not UTF-8" in out.stdout
    out = _run("data", "check", "--strict", str(root))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        f"avlib data: error: {root / 'meta' / 'esc50.csv'}: line 1: the header is not UTF-8 "
        "text (byte 0xE9 at column 6 is not UTF-8)"
    ]
