"""`POST /v1/chat/completions`: the request checked as the API checks it, and the reply built.

The options other clients send are honoured: `n` choices, `stop` sequences, `max_tokens`,
`logprobs`/`top_logprobs`, `tools`/`tool_choice` (a tool call when the training data taught
one, or when the request requires one), `response_format` (`json_object`, `json_schema`),
`seed` (answers are deterministic anyway), and `stream_options.include_usage`. Errors name the
`param` the API names.
"""

from __future__ import annotations

import json
import re
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.emulator import chat, sse
from tui.emulator.errors import ApiError, array_too_long, check_int_range, invalid, missing
from tui.emulator.examples import Example, ToolCall, pieces

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
MAX_N = 128
MAX_STOP = 4
MAX_TOP_LOGPROBS = 20
MAX_TOOLS = 128
_FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ALTERNATIVES = (" the", " a", ",", ".", " and", " to", " of", " in", " is", " it")


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    n: int = 1
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    tools: tuple[str, ...] = ()  # function names offered
    tool_choice: str = "auto"  # none | auto | required | the name of the function to call
    response_format: dict[str, Any] = field(default_factory=lambda: {"type": "text"})
    stream: bool = False
    include_usage: bool = False

    @property
    def calls(self) -> set[str] | None:
        """Function names the model may call (None: none)."""
        if not self.tools or self.tool_choice == "none":
            return None
        if self.tool_choice in ("auto", "required"):
            return set(self.tools)
        return {self.tool_choice}


def _int(body: dict[str, Any], name: str, lo: int, hi: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, f"expected an integer, but got {value!r} instead.", "invalid_type")
    check_int_range(name, value, lo, hi)
    return value


def _number(body: dict[str, Any], name: str, lo: float, hi: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(name, f"expected a number, but got {value!r} instead.", "invalid_type")
    if not lo <= value <= hi:
        raise invalid(
            name,
            f"expected a value between {lo} and {hi}, but got {value} instead.",
            "decimal_above_max_value" if value > hi else "decimal_below_min_value",
        )


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(name, f"expected a boolean, but got {value!r} instead.", "invalid_type")
    return value


def _messages(raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise missing("messages")
    for i, message in enumerate(raw):
        if not isinstance(message, dict):
            raise invalid(f"messages[{i}]", "expected an object.", "invalid_type")
        role = message.get("role")
        if role not in ROLES:
            shown = ", ".join(f"'{r}'" for r in ROLES)
            raise invalid(
                f"messages[{i}].role", f"expected one of {shown}, but got {role!r} instead."
            )
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            raise invalid(
                f"messages[{i}].content",
                f"expected a string or an array of content parts, but got {content!r} instead.",
                "invalid_type",
            )
    return raw


def _stop(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,) if raw else ()
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise invalid("stop", "expected a string or an array of strings.", "invalid_type")
    if len(raw) > MAX_STOP:
        raise array_too_long("stop", len(raw), MAX_STOP)
    return tuple(s for s in raw if s)


def _tools(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise invalid("tools", "expected an array of tools.", "invalid_type")
    if len(raw) > MAX_TOOLS:
        raise array_too_long("tools", len(raw), MAX_TOOLS)
    names = []
    for i, tool in enumerate(raw):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise invalid(f"tools[{i}].type", "expected 'function'.")
        if not isinstance(function, dict):
            raise missing(f"tools[{i}].function")
        name = function.get("name")
        if not isinstance(name, str) or not _FUNCTION_NAME.match(name):
            raise invalid(
                f"tools[{i}].function.name",
                f"string does not match pattern. Expected a string that matches the pattern "
                f"'^[a-zA-Z0-9_-]+$' of at most 64 characters, but got {name!r} instead.",
                "invalid_value",
            )
        names.append(name)
    return tuple(names)


def _tool_choice(raw: object, tools: tuple[str, ...]) -> str:
    if raw is None:
        return "auto"
    if not tools:
        raise ApiError(
            400,
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            param="tool_choice",
        )
    if raw in ("none", "auto", "required"):
        return str(raw)
    function = raw.get("function") if isinstance(raw, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(raw, dict) or raw.get("type") != "function" or not isinstance(name, str):
        raise invalid(
            "tool_choice",
            "expected 'none', 'auto', 'required' or "
            '{"type": "function", "function": {"name": ...}}.',
        )
    if name not in tools:
        raise ApiError(
            400,
            f"Invalid value for 'tool_choice': Tool choice '{name}' not found in 'tools' "
            "parameter.",
            param="tool_choice",
        )
    return name


def _response_format(raw: object, messages: list[dict[str, Any]]) -> dict[str, Any]:
    if raw is None:
        return {"type": "text"}
    kind = raw.get("type") if isinstance(raw, dict) else None
    if not isinstance(raw, dict) or kind not in ("text", "json_object", "json_schema"):
        raise invalid(
            "response_format.type",
            f"expected one of 'text', 'json_object', 'json_schema', but got {kind!r} instead.",
        )
    if kind == "json_schema":
        spec = raw.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise missing("response_format.json_schema.name")
    if kind == "json_object" and not any(
        "json" in chat.content_text(m.get("content")).casefold() for m in messages
    ):
        raise ApiError(
            400,
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'.",
            param="messages",
        )
    return raw


def parse(body: dict[str, Any]) -> ChatRequest:
    """Check a request as the API does; every refusal names its `param`."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise missing("model")
    messages = _messages(body.get("messages"))
    n = _int(body, "n", 1, MAX_N) or 1
    max_tokens = _int(body, "max_completion_tokens", 1, None)
    if max_tokens is None:
        max_tokens = _int(body, "max_tokens", 1, None)
    _int(body, "seed", -(2**63), 2**63 - 1)
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "presence_penalty", -2, 2)
    _number(body, "frequency_penalty", -2, 2)
    logprobs = _bool(body, "logprobs")
    top = _int(body, "top_logprobs", 0, MAX_TOP_LOGPROBS)
    if top is not None and not logprobs:
        raise ApiError(
            400,
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
            "'top_logprobs' is specified.",
            param="top_logprobs",
        )
    stream = _bool(body, "stream")
    options = body.get("stream_options")
    if options is not None and not stream:
        raise ApiError(
            400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    if options is not None and not isinstance(options, dict):
        raise invalid("stream_options", "expected an object.", "invalid_type")
    tools = _tools(body.get("tools"))
    return ChatRequest(
        model=model,
        messages=messages,
        n=n,
        max_tokens=max_tokens,
        stop=_stop(body.get("stop")),
        logprobs=logprobs,
        top_logprobs=top or 0,
        tools=tools,
        tool_choice=_tool_choice(body.get("tool_choice"), tools),
        response_format=_response_format(body.get("response_format"), messages),
        stream=stream,
        include_usage=bool(options and _bool(options, "include_usage")),
    )


# -- the reply ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One choice: its text pieces (one per token) or a tool call, and why it ended."""

    parts: list[str]
    finish_reason: str
    tool_call: ToolCall | None = None
    call_id: str = ""

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def tokens(self) -> int:
        if self.tool_call is not None:
            return len(pieces(self.tool_call.name + self.tool_call.arguments))
        return len(self.parts)


def answer(request: ChatRequest, examples: Sequence[Example] | None, model: str) -> chat.Answer:
    """What the model says: a tuned model (with `examples`) from its data, a base one generic.
    After a tool's result the model answers in text (unless the request forces a call), so a
    client's tool loop ends."""
    prompt = chat.last_user_text(request.messages)
    last = request.messages[-1]
    if last.get("role") == "tool":
        found = chat.Answer(chat.after_tool(chat.content_text(last.get("content"))))
    elif examples:
        found = chat.tuned_answer(examples, prompt, calls=request.calls)
    else:
        found = chat.Answer(chat.generic_answer(model, prompt))
    if found.tool_call is None and request.tool_choice not in ("none", "auto"):
        return chat.Answer("", _forced_call(request, examples or ()))
    return found


def _forced_call(request: ChatRequest, examples: Sequence[Example]) -> ToolCall:
    """The call a request that requires one gets: as trained for that function, else `{}`."""
    allowed = request.calls or set(request.tools)
    for example in examples:
        if example.tool_call is not None and example.tool_call.name in allowed:
            return example.tool_call
    name = request.tool_choice if request.tool_choice in request.tools else request.tools[0]
    return ToolCall(name, "{}")


def _as_json(text: str, response_format: dict[str, Any]) -> str:
    """The answer as the JSON the format asks for: itself if it is a JSON object, else wrapped
    (`{"answer": text}`, or the schema's properties filled from it)."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return text
    if response_format["type"] == "json_schema":
        schema = response_format["json_schema"].get("schema")
        return json.dumps(_instance(schema, text, 0), ensure_ascii=False)
    return json.dumps({"answer": text}, ensure_ascii=False)


def _instance(schema: object, text: str, depth: int) -> Any:
    """A small value of `schema` holding `text` where a string fits."""
    if not isinstance(schema, dict) or depth > 8:
        return text
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        return {key: _instance(sub, text, depth + 1) for key, sub in props.items()}
    if kind == "array":
        return [_instance(schema.get("items"), text, depth + 1)]
    return {"integer": 0, "number": 0, "boolean": False, "null": None}.get(str(kind), text)


def _cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """The text before the first stop sequence (which is not sent, as the API does)."""
    cuts = [text.find(stop) for stop in stops if stop in text]
    return text[: min(cuts)] if cuts else text


def choices(request: ChatRequest, found: chat.Answer) -> list[Choice]:
    """`n` choices of the answer; the emulator is deterministic, so they are the same."""
    out = []
    for _ in range(request.n):
        call_id = "call_" + uuid.uuid4().hex[:24]
        if found.tool_call is not None:
            out.append(Choice([], "tool_calls", found.tool_call, call_id))
            continue
        text = found.text
        if request.response_format["type"] != "text":
            text = _as_json(text, request.response_format)
        text = _cut_at_stop(text, request.stop)
        parts, finish = chat.truncate(text, request.max_tokens)
        out.append(Choice(parts, finish))
    return out


def _logprob(model: str, index: int, token: str) -> float:
    """A stable, plausible log-probability for a token (the emulator has no real one)."""
    spread = zlib.crc32(f"{model}\0{index}\0{token}".encode()) % 1000 / 1000
    return -round(0.0005 + 0.25 * spread**3, 6)


def logprob_entries(model: str, parts: Sequence[str], top: int, start: int = 0) -> list[Any]:
    entries = []
    for offset, token in enumerate(parts):
        value = _logprob(model, start + offset, token)
        others = [alt for alt in _ALTERNATIVES if alt != token][: max(0, top - 1)]
        tops = [{"token": token, "logprob": value, "bytes": list(token.encode())}] if top else []
        tops += [
            {"token": alt, "logprob": round(value - 3.0 - 1.5 * i, 6), "bytes": list(alt.encode())}
            for i, alt in enumerate(others)
        ]
        entries.append(
            {
                "token": token,
                "logprob": value,
                "bytes": list(token.encode()),
                "top_logprobs": tops,
            }
        )
    return entries


def _tool_calls(choice: Choice) -> list[dict[str, Any]]:
    assert choice.tool_call is not None
    return [
        {
            "id": choice.call_id,
            "type": "function",
            "function": {"name": choice.tool_call.name, "arguments": choice.tool_call.arguments},
        }
    ]


def completion(
    request: ChatRequest, found: chat.Answer, model: str, completion_id: str, created: int
) -> dict[str, Any]:
    """The non-streamed `chat.completion` body."""
    picked = choices(request, found)
    body_choices = []
    for index, choice in enumerate(picked):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if choice.tool_call is not None else choice.text,
            "refusal": None,
            "annotations": [],
        }
        if choice.tool_call is not None:
            message["tool_calls"] = _tool_calls(choice)
        logprobs = None
        if request.logprobs:
            logprobs = {
                "content": logprob_entries(model, choice.parts, request.top_logprobs),
                "refusal": None,
            }
        body_choices.append(
            {
                "index": index,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": choice.finish_reason,
            }
        )
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": body_choices,
        "usage": chat.usage(chat.prompt_tokens(request.messages), sum(c.tokens() for c in picked)),
        "service_tier": "default",
        "system_fingerprint": sse.FINGERPRINT,
    }


@dataclass(frozen=True)
class StreamPlan:
    """The `chat.completion.chunk`s of a streamed reply: `head` (a role chunk per choice),
    `body` (the pieces, choice by choice: what a model's token rate spaces out) and `tail`
    (a finish chunk per choice, then the usage chunk when asked for)."""

    head: list[dict[str, Any]]
    body: list[dict[str, Any]]
    tail: list[dict[str, Any]]


def stream_chunks(
    request: ChatRequest, found: chat.Answer, model: str, completion_id: str, created: int
) -> StreamPlan:
    """The chunks of a streamed reply (see `StreamPlan`)."""
    picked = choices(request, found)
    with_usage = request.include_usage

    def chunk(
        index: int, delta: dict[str, Any], finish: str | None = None, logprobs: Any = None
    ) -> dict[str, Any]:
        return sse.chunk(
            completion_id,
            created,
            model,
            delta,
            finish_reason=finish,
            include_usage=with_usage,
            index=index,
            logprobs=logprobs,
        )

    head = [
        chunk(i, {"role": "assistant", "content": "", "refusal": None}) for i in range(len(picked))
    ]
    body: list[dict[str, Any]] = []
    for index, choice in enumerate(picked):
        if choice.tool_call is not None:
            call = _tool_calls(choice)[0]
            opening = {**call, "index": 0, "function": {**call["function"], "arguments": ""}}
            body.append(chunk(index, {"content": None, "tool_calls": [opening]}))
            for piece in pieces(choice.tool_call.arguments):
                body.append(
                    chunk(index, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
                )
            continue
        for offset, piece in enumerate(choice.parts):
            logprobs = None
            if request.logprobs:
                entries = logprob_entries(model, [piece], request.top_logprobs, start=offset)
                logprobs = {"content": entries, "refusal": None}
            body.append(chunk(index, {"content": piece}, logprobs=logprobs))
    tail = [chunk(i, {}, c.finish_reason) for i, c in enumerate(picked)]
    if with_usage:
        usage = chat.usage(chat.prompt_tokens(request.messages), sum(c.tokens() for c in picked))
        tail.append(sse.chunk(completion_id, created, model, None, usage=usage, include_usage=True))
    return StreamPlan(head, body, tail)
