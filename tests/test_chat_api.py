"""Pure parts of the chat API: word diff, batch input errors, remembered model, error lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.api import batch, last_choice
from tui.errors import UsageError, describe


def test_word_diff_marks_removed_and_added_words() -> None:
    assert batch.word_diff("Kot śpi na kanapie.", "Kot spi na kanapie.") == [
        ("same", "Kot"),
        ("removed", "śpi"),
        ("added", "spi"),
        ("same", "na kanapie."),
    ]


def test_exact_match_ignores_surrounding_whitespace() -> None:
    example = batch.CheckExample(1, [{"role": "user", "content": "a"}], "Kot  śpi.")
    assert batch.CheckResult(example, got=" Kot śpi.\n").exact
    assert not batch.CheckResult(example, got="Kot śpi!").exact


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "column 2: Expecting property name"),
        ('{"prompt": "x"}', "no assistant message"),
        ('{"messages": [{"role": "user", "content": "x"}]}', "no assistant message"),
    ],
)
def test_bad_batch_line_is_one_located_error(tmp_path: Path, line: str, message: str) -> None:
    good = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    path = tmp_path / "valid.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + line + "\n")
    with pytest.raises(UsageError, match=rf"valid.jsonl:3: {message}"):
        batch.load_examples(path)


def test_batch_takes_the_first_n_and_splits_at_the_last_answer(tmp_path: Path) -> None:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ]
        }
        for i in range(5)
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    examples = batch.load_examples(path, limit=2)
    assert [(e.line, e.user_text, e.expected) for e in examples] == [
        (1, "q0", "a0"),
        (2, "q1", "a1"),
    ]


def test_last_model_survives_a_damaged_state_file(tmp_path: Path) -> None:
    path = tmp_path / "playground.json"
    path.write_text("{broken")
    assert last_choice.last_model("p", path) is None
    last_choice.remember_model("p", "ft:x", path)
    last_choice.remember_model("q", "gpt-4o", path)
    assert last_choice.last_model("p", path) == "ft:x"
    assert last_choice.last_model("q", path) == "gpt-4o"


def _not_found(url: str, code: str) -> BaseException:
    import httpx2
    import openai

    request = httpx2.Request("POST", url)
    body = {
        "error": {"message": "The API deployment for this resource does not exist.", "code": code}
    }
    response = httpx2.Response(404, request=request, json=body)
    return openai.NotFoundError("not found", response=response, body=body)


def test_model_not_found_on_azure_says_deploy_first() -> None:
    url = "https://r.openai.azure.com/openai/deployments/ft-x/chat/completions"
    line = describe(_not_found(url, "DeploymentNotFound"))
    assert line.startswith("no deployment by that name (404 DeploymentNotFound): on Azure a tuned")
    assert "deploy it first" in line


def test_model_not_found_elsewhere_is_plain() -> None:
    line = describe(_not_found("https://api.openai.com/v1/chat/completions", "model_not_found"))
    assert line.startswith("model not found (404): The API deployment")


def test_batch_reads_pairs_text_with_its_system_prompt(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text("# system: Popraw gramatykę zdania.\nKot, spać; Kot śpi.\n", encoding="utf-8")
    [example] = batch.load_examples(path)
    assert example.line == 2
    assert example.prompt == [
        {"role": "system", "content": "Popraw gramatykę zdania."},
        {"role": "user", "content": "Kot, spać"},
    ]
    assert example.expected == "Kot śpi."
