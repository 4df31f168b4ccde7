"""`tunebench validate` and `tunebench convert` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from seed_data import SEED_JSONL, SEED_PAIRS, SEED_SYSTEM

GOOD = json.dumps(
    {
        "messages": [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": "A"},
        ]
    }
)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_clean_file_exits_0_with_a_summary(tmp_path: Path, run_cli) -> None:
    lines = [GOOD.replace('"Q"', f'"Q{i}"') for i in range(12)]
    path = write(tmp_path, "train.jsonl", "\n".join(lines) + "\n")
    result = run_cli("validate", str(path))
    assert result.returncode == 0, result
    assert "12 examples, 0 errors, 0 warnings" in result.stdout
    assert "tokens: total" in result.stdout and "billed tokens" in result.stdout
    assert result.stderr == ""


def test_problems_are_path_line_severity_code(tmp_path: Path, run_cli) -> None:
    lines = [GOOD] * 2 + ['{"messages": [{"role": "robot", "content": "x"}]}', "{oops"]
    path = write(tmp_path, "bad.jsonl", "\n".join(lines))
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    out = result.stdout.splitlines()
    assert (
        f"{path}:3: error unrecognized_role: messages[0].role: 'robot' is not one of "
        "system, user, assistant, tool, function" in out
    )
    assert any(line.startswith(f"{path}:4: error invalid_json: column 2") for line in out)
    assert f"{path}:2: warning duplicate_example: the same example as line 1" in out


def test_json_output_has_the_contract_keys(tmp_path: Path, run_cli) -> None:
    path = write(tmp_path, "seed.jsonl", SEED_JSONL)
    result = run_cli("validate", str(path), "--json", "--model", "ft:gpt-4.1-2025-04-14:o::x")
    assert result.returncode == 1  # two examples: fewer than ten
    report = json.loads(result.stdout)
    assert set(report) == {
        "file", "format", "model", "examples", "problems", "tokens",
        "n_epochs", "billed_tokens", "estimated_cost_usd",
    }  # fmt: skip
    assert report["model"] == "gpt-4.1-2025-04-14"
    assert report["examples"] == 2 and report["format"] == "chat"
    assert report["problems"][0] == {
        "line": 0,
        "code": "invalid_n_examples",
        "severity": "error",
        "message": "the file has 2 example(s), but must have at least 10",
    }
    assert report["tokens"] == {"total": 94, "max": 49, "p50": 45, "p95": 49}
    assert report["n_epochs"] == 25 and report["billed_tokens"] == 25 * 94
    assert report["estimated_cost_usd"] == round(25 * 94 / 1e6 * 25, 4)


def test_epochs_option_changes_billed_tokens(tmp_path: Path, run_cli) -> None:
    path = write(tmp_path, "seed.jsonl", SEED_JSONL)
    report = json.loads(run_cli("validate", str(path), "--json", "--epochs", "2").stdout)
    assert (report["n_epochs"], report["billed_tokens"]) == (2, 188)


def test_unusable_input_is_one_line_on_stderr_and_exit_2(tmp_path: Path, run_cli) -> None:
    cases = {
        "missing.jsonl": None,
        "garbage.jsonl": bytes(range(256)) * 4,
        "array.jsonl": b'[{"messages": []}]',
    }
    for name, data in cases.items():
        path = tmp_path / name if data is None else write(tmp_path, name, data)
        result = run_cli("validate", str(path))
        assert result.returncode == 2, (name, result)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith(str(path))
    result = run_cli("validate", str(tmp_path))
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_an_empty_file_has_0_examples_as_the_app_shows(tmp_path: Path, run_cli) -> None:
    for name in ("empty.jsonl", "empty.csv", "empty.txt"):
        path = write(tmp_path, name, b"")
        result = run_cli("validate", str(path), "--json")
        assert result.returncode == 1, (name, result)
        report = json.loads(result.stdout)
        assert report["examples"] == 0
        assert [p["code"] for p in report["problems"]] == ["invalid_n_examples"]


def test_bad_arguments_exit_2(tmp_path: Path, run_cli) -> None:
    path = write(tmp_path, "seed.jsonl", SEED_JSONL)
    assert run_cli("validate", str(path), "--model", "gpt-5").returncode == 2
    assert run_cli("validate", str(path), "--epochs", "0").returncode == 2


def test_convert_seed_pairs_gives_the_seed_jsonl(tmp_path: Path, run_cli) -> None:
    src = write(tmp_path, "pairs.txt", SEED_PAIRS)
    out = tmp_path / "train.jsonl"
    result = run_cli("convert", str(src), "-o", str(out), "--system", SEED_SYSTEM)
    assert result.returncode == 0, result
    assert out.read_bytes() == SEED_JSONL.encode("utf-8")


def test_convert_with_problems_writes_nothing(tmp_path: Path, run_cli) -> None:
    src = write(tmp_path, "pairs.txt", "ok; fine\nno separator\na; b; c\n")
    out = tmp_path / "train.jsonl"
    result = run_cli("convert", str(src), "-o", str(out))
    assert result.returncode == 1
    assert f"{src}:2: error missing_separator" in result.stdout
    assert f"{src}:3: error multiple_separators" in result.stdout
    assert not out.exists()


def test_convert_csv_and_custom_separator(tmp_path: Path, run_cli) -> None:
    src = write(tmp_path, "d.csv", 'input,output\n"a, b","c\nd"\n')
    out = tmp_path / "o.jsonl"
    assert run_cli("convert", str(src), "-o", str(out)).returncode == 0
    assert json.loads(out.read_text())["messages"][1]["content"] == "c\nd"
    src = write(tmp_path, "p.txt", "a; b | c\n")
    assert run_cli("convert", str(src), "-o", str(out), "--sep", "|").returncode == 0
    assert json.loads(out.read_text())["messages"][0]["content"] == "a; b"


def test_core_never_imports_textual(run_cli) -> None:
    import subprocess
    import sys

    code = (
        "import sys, tui.core.dataset, tui.core.validate, tui.core.estimate;"
        "print('textual' in sys.modules, 'openai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_convert_takes_separator_and_system_prompt_from_the_config(
    run_cli, tmp_path, isolated_home
) -> None:
    config = isolated_home / "config" / "tunebench" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('dataset:\n  separator: "|"\n  system_prompt: Popraw gramatykę zdania.\n')
    config.chmod(0o600)
    (tmp_path / "pairs.txt").write_text("Kot, spać, kanapa | Kot śpi na kanapie.\n", "utf-8")
    result = run_cli("convert", "pairs.txt", "-o", "out.jsonl")
    assert result.returncode == 0, result
    line = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert line == (
        '{"messages": [{"role": "system", "content": "Popraw gramatykę zdania."}, '
        '{"role": "user", "content": "Kot, spać, kanapa"}, '
        '{"role": "assistant", "content": "Kot śpi na kanapie."}]}\n'
    )
    explicit = run_cli("convert", "pairs.txt", "-o", "out2.jsonl", "--sep", ";")
    assert explicit.returncode == 1 and "missing_separator" in explicit.stdout


def test_pairs_piped_through_convert_into_validate(run_cli) -> None:
    """`-` is stdin for both and stdout for convert's -o: a pipeline with nothing on disk."""
    converted = run_cli("convert", "-", "-o", "-", "--system", SEED_SYSTEM, input=SEED_PAIRS)
    assert converted.returncode == 0, converted
    assert converted.stdout == SEED_JSONL  # only the JSONL on stdout
    assert "examples written to <stdout>" in converted.stderr
    checked = run_cli("validate", "-", input=converted.stdout * 5)
    assert checked.returncode == 0, checked
    assert "10 examples, 0 errors" in checked.stdout


def test_stdin_problems_are_named_stdin(run_cli) -> None:
    result = run_cli("validate", "-", input=GOOD + "\n{oops\n")
    assert result.returncode == 1
    assert "<stdin>:2: error invalid_json" in result.stdout
    piped = run_cli("convert", "-", "-o", "-", input="a; b; c\n")
    assert piped.returncode == 1 and piped.stdout == ""
    assert "<stdin>:1: error multiple_separators" in piped.stderr
    assert "<stdout> not written" in piped.stderr
