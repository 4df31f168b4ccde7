"""The command line contract: help, version, exit codes, one-line errors."""

from __future__ import annotations

from tui import __version__


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"tunebench {__version__}"


def test_help_lists_commands(run_cli) -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "--profile" in result.stdout and "config" in result.stdout


def test_unknown_option_is_one_line_exit_2(run_cli) -> None:
    result = run_cli("--frobnicate")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "unrecognized arguments: --frobnicate" in result.stderr


def test_missing_dataset_is_one_line_exit_2(run_cli) -> None:
    result = run_cli("no-such-file.jsonl")
    assert result.returncode == 2
    assert result.stderr == "no-such-file.jsonl: no such file\n"


def test_directory_as_dataset_is_refused(run_cli, tmp_path) -> None:
    (tmp_path / "d").mkdir()
    result = run_cli("d")
    assert result.returncode == 2
    assert "is a directory" in result.stderr


def test_debug_shows_traceback(run_cli) -> None:
    result = run_cli("--debug", "no-such-file.jsonl")
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().endswith("no-such-file.jsonl: no such file")


def test_python_dash_m_and_console_script_share_main() -> None:
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["tunebench"] == "tui.cli:main"
