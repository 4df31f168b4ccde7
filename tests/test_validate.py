"""Validation: the right code on the right line, for what the API would reject or mistrain."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core import formats
from tui.core.validate import validate_bytes

SYS = {"role": "system", "content": "Be brief."}
USER = {"role": "user", "content": "Hi"}
ASSIST = {"role": "assistant", "content": "Hello"}
CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
TOOLS: list[object] = [{"type": "function", "function": {"name": "f"}}]
FILLER = [
    json.dumps({"messages": [SYS, {"role": "user", "content": f"q{i}"}, ASSIST]}) for i in range(10)
]


def tool_example(
    *, name: str = "f", arguments: str = "{}", tools: list[object] | None = TOOLS
) -> dict[str, object]:
    """A tool-calling exchange whose call names `name` with `arguments`."""
    call = {**CALL, "function": {"name": name, "arguments": arguments}}
    example: dict[str, object] = {
        "messages": [
            SYS,
            USER,
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "42"},
            ASSIST,
        ]
    }
    if tools is not None:
        example["tools"] = tools
    return example


def codes_of(example: object, model: str | None = None) -> set[str]:
    """Codes reported on line 1 when `example` leads ten valid examples."""
    line = example if isinstance(example, str) else json.dumps(example)
    data = "\n".join([line, *FILLER]).encode()
    report = validate_bytes(data, model, filename="t.jsonl")
    return {p.code for p in report.problems if p.line == 1}


@pytest.mark.parametrize(
    ("example", "codes"),
    [
        ({"messages": [SYS, USER, ASSIST]}, set()),
        ("[1, 2]", {"data_type"}),
        ('"text"', {"data_type"}),
        ({"messages": []}, {"missing_messages_list"}),
        ({"prompt": "x", "completion": "y"}, {"missing_messages_list", "unrecognized_key"}),
        (
            {"messages": [SYS, {"content": "x"}, ASSIST]},
            {"message_missing_key", "missing_user_message"},
        ),
        ({"messages": [SYS, {"role": "user"}, ASSIST]}, {"message_missing_key"}),
        ({"messages": [SYS, {**USER, "extra": 1}, ASSIST]}, {"message_unrecognized_key"}),
        (
            {"messages": [SYS, {"role": "human", "content": "x"}, ASSIST]},
            {"unrecognized_role", "missing_user_message"},
        ),
        ({"messages": [SYS, {"role": "user", "content": ""}, ASSIST]}, {"missing_content"}),
        ({"messages": [SYS, {"role": "user", "content": 5}, ASSIST]}, {"missing_content"}),
        ({"messages": [SYS, USER]}, {"example_missing_assistant_message"}),
        ({"messages": [USER, ASSIST]}, {"missing_system_message"}),
        ({"messages": [SYS, ASSIST]}, {"missing_user_message"}),
        ('{"messages": [', {"invalid_json"}),
        ('{"a": NaN}', {"invalid_json"}),
        # The Cookbook's defects: all of these are valid.
        ({"messages": [SYS, USER, {**ASSIST, "weight": 0}, USER, ASSIST]}, set()),
        ({"messages": [SYS, USER, {**ASSIST, "weight": 1}]}, set()),
        (
            {
                "messages": [
                    SYS,
                    USER,
                    {"role": "assistant", "tool_calls": [CALL]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "42"},
                    ASSIST,
                ],
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "parallel_tool_calls": False,
            },
            set(),
        ),
        (
            {
                "messages": [
                    SYS,
                    USER,
                    {"role": "assistant", "content": None, "function_call": CALL["function"]},
                    {"role": "function", "name": "f", "content": "42"},
                    ASSIST,
                ],
                "functions": [{"name": "f", "parameters": {"type": "object"}}],
            },
            set(),
        ),
        (
            {
                "messages": [
                    SYS,
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "what is this?"},
                            {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                        ],
                    },
                    {"role": "assistant", "content": [{"type": "text", "text": "a cat"}]},
                ]
            },
            set(),
        ),
        # Beyond the Cookbook.
        ({"messages": [SYS, USER, {**ASSIST, "weight": 2}]}, {"invalid_weight"}),
        ({"messages": [SYS, USER, {**ASSIST, "weight": True}]}, {"invalid_weight"}),
        ({"messages": [SYS, {**USER, "weight": 1}, ASSIST]}, {"weight_not_on_assistant"}),
        (
            {
                "messages": [
                    SYS,
                    USER,
                    {
                        "role": "assistant",
                        "content": [{"type": "image_url", "image_url": {"url": "https://x"}}],
                    },
                ]
            },
            {"image_outside_user_message"},
        ),
        (
            {
                "messages": [
                    SYS,
                    USER,
                    {"role": "tool", "tool_call_id": "call_9", "content": "42"},
                    ASSIST,
                ]
            },
            {"tool_message_without_call"},
        ),
        ({"messages": [SYS, USER, {**ASSIST, "content": ""}]}, {"missing_content"}),
        (
            {"messages": [SYS, USER, {"role": "assistant", "tool_calls": [{"id": "x"}]}]},
            {"invalid_tool_calls"},
        ),
        # What the API accepts but trains in wrong.
        ({"messages": [SYS, USER, {**ASSIST, "content": "Hello\n"}]}, {"trailing_newline"}),
        ({"messages": [SYS, USER, {**ASSIST, "content": "Hello\r\n"}]}, {"trailing_newline"}),
        (
            {"messages": [SYS, USER, {**ASSIST, "content": "Hello\n", "weight": 0}, USER, ASSIST]},
            set(),
        ),
        ({"messages": [SYS, {**USER, "content": "Hi\n"}, {**ASSIST, "content": "a\nb"}]}, set()),
        (
            {
                "messages": [
                    SYS,
                    USER,
                    {"role": "assistant", "content": [{"type": "text", "text": "a cat\n"}]},
                ]
            },
            {"trailing_newline"},
        ),
        (tool_example(arguments='{"city": "Kraków"'), {"invalid_arguments"}),
        (tool_example(arguments="[1, 2]"), {"invalid_arguments"}),
        (tool_example(name="g"), {"undeclared_function"}),
        (tool_example(tools=None), {"undeclared_function"}),
        (
            tool_example(name="g", arguments="nonsense"),
            {"undeclared_function", "invalid_arguments"},
        ),
    ],
)
def test_example_lines_get_the_expected_codes(example: object, codes: set[str]) -> None:
    assert codes_of(example) == codes


def test_messages_name_the_json_path() -> None:
    line = json.dumps({"messages": [SYS, USER, {"role": "robot", "content": "x"}]})
    report = validate_bytes("\n".join([line, *FILLER]).encode(), filename="t.jsonl")
    [problem] = [p for p in report.problems if p.code == "unrecognized_role"]
    assert problem.line == 1 and problem.severity == "error"
    assert "messages[2].role" in problem.message


def test_invalid_json_names_the_column() -> None:
    report = validate_bytes(b'{"messages": [}\n', filename="t.jsonl")
    [problem] = [p for p in report.problems if p.code == "invalid_json"]
    assert "column 15" in problem.message


def test_fewer_than_ten_examples_is_invalid_n_examples() -> None:
    report = validate_bytes("\n".join(FILLER[:3]).encode(), filename="t.jsonl")
    assert [(p.line, p.code) for p in report.errors] == [(0, "invalid_n_examples")]
    assert report.n_examples == 3


def test_duplicates_name_the_first_line() -> None:
    data = "\n".join([*FILLER, FILLER[2], FILLER[2]]).encode()
    dups = [p for p in validate_bytes(data).problems if p.code == "duplicate_example"]
    assert [(p.line, p.message) for p in dups] == [
        (11, "the same example as line 3"),
        (12, "the same example as line 3"),
    ]
    assert all(p.severity == "warning" for p in dups)


def test_too_many_tokens_for_the_chosen_model_is_a_truncation_warning() -> None:
    long = {"messages": [SYS, USER, {"role": "assistant", "content": "word " * 5000}]}
    assert "too_many_tokens" in codes_of(long, "gpt-3.5-turbo-0613")  # 4,096 limit
    assert "too_many_tokens" not in codes_of(long, "gpt-4o-mini")  # 65,536 limit


def test_dpo_shapes() -> None:
    good = {
        "input": {"messages": [USER]},
        "preferred_output": [ASSIST],
        "non_preferred_output": [{"role": "assistant", "content": "Go away"}],
    }
    lines = [json.dumps(good)] * 1 + [
        json.dumps({**good, "preferred_output": [ASSIST, ASSIST]}),
        json.dumps({"input": {"messages": [USER]}, "preferred_output": [ASSIST]}),
        json.dumps({**good, "non_preferred_output": [ASSIST]}),
    ]
    report = validate_bytes("\n".join(lines).encode(), filename="p.jsonl")
    assert report.format == "dpo"
    by_line = {line: {p.code for p in report.problems if p.line == line} for line in (1, 2, 3, 4)}
    assert by_line == {
        1: set(),
        2: {"dpo_invalid_output"},
        3: {"dpo_missing_key"},
        4: {"dpo_identical_outputs"},
    }


def test_a_dpo_line_in_a_chat_file_is_mixed_formats() -> None:
    dpo = json.dumps({"input": {"messages": [USER]}, "preferred_output": [ASSIST]})
    report = validate_bytes("\n".join([*FILLER, dpo]).encode(), filename="t.jsonl")
    assert {p.code for p in report.problems if p.line == 11} == {"mixed_formats"}


@pytest.mark.parametrize(
    ("data", "fatal"),
    [
        (b"\x00\xff\x00garbage", "binary"),
        (b'[{"messages": []}, {"messages": []}]', "JSON array"),
    ],
)
def test_unusable_input_is_fatal_not_an_exception(data: bytes, fatal: str) -> None:
    report = validate_bytes(data, filename="t.jsonl")
    assert report.fatal is not None and fatal in report.fatal
    assert report.errors and not report.ok


def test_deeply_nested_json_is_a_problem_not_a_crash() -> None:
    data = b'{"messages": ' + b"[" * 200_000 + b"]" * 200_000 + b"}\n"
    report = validate_bytes(data, filename="t.jsonl")
    assert [p.code for p in report.problems if p.line == 1] == ["invalid_json"]


def test_an_overlong_line_is_reported_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_LINE_BYTES", 1000)
    data = json.dumps({"messages": [SYS, USER, {**ASSIST, "content": "x" * 5000}]}).encode()
    report = validate_bytes(data, filename="t.jsonl")
    [problem] = [p for p in report.problems if p.line == 1]
    assert problem.code == "line_too_long" and problem.severity == "error"


def test_unknown_model_is_a_warning_for_library_callers() -> None:
    report = validate_bytes("\n".join(FILLER).encode(), "gpt-99")
    assert [p.code for p in report.problems] == ["unknown_model"]
    assert report.ok


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_validator(data: bytes) -> None:
    for name in ("t.jsonl", "t.txt", "t.csv", None):
        report = validate_bytes(data, filename=name)
        assert report.n_examples >= 0
        assert all(p.severity in ("error", "warning") for p in report.problems)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["{", "}", "[", "]", '"', ":", ",", "\n", "\r", "a", "1"])))
def test_json_like_noise_never_crashes(parts: list[str]) -> None:
    validate_bytes("".join(parts).encode(), filename="t.jsonl")


def test_parallel_workers_give_the_same_report() -> None:
    lines = [*FILLER, FILLER[0], '{"messages": [', *FILLER[:5], json.dumps({"messages": []})]
    data = "\n".join(lines * 3).encode()
    serial = validate_bytes(data, filename="t.jsonl")
    parallel = validate_bytes(data, filename="t.jsonl", workers=3, chunk_bytes=500)
    assert parallel.problems == serial.problems
    assert parallel.token_counts == serial.token_counts
    assert any(p.code == "duplicate_example" and p.line > 30 for p in parallel.problems)


def test_bytes_without_a_filename_are_judged_as_an_api_upload() -> None:
    # The emulator passes bare bytes: pairs text is not JSONL, every line is invalid_json.
    report = validate_bytes(b"a; b\nc; d\n")
    assert report.format == "chat"
    assert [(p.line, p.code) for p in report.errors] == [
        (0, "invalid_n_examples"),
        (1, "invalid_json"),
        (2, "invalid_json"),
    ]
