"""Checks of one parsed example: pure functions, so an editor can re-check one example.

Codes follow the OpenAI Cookbook data-prep script's counters where it has one, without its
known defects (`weight`, tool calls, the `tool` role, `tools`, content-part lists are valid).
Each finding is a `Finding` (code, severity, message); the message names the JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tui.core.problems import ERROR, WARNING, Finding

ROLES = ("system", "user", "assistant", "tool", "function")
MESSAGE_KEYS = {
    "system": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset(
        {"role", "content", "name", "tool_calls", "function_call", "weight", "refusal", "audio"}
    ),
    "tool": frozenset({"role", "content", "tool_call_id"}),
    "function": frozenset({"role", "content", "name"}),
}
PART_TYPES = {
    "system": frozenset({"text"}),
    "user": frozenset({"text", "image_url"}),
    "assistant": frozenset({"text", "refusal"}),
    "tool": frozenset({"text"}),
    "function": frozenset(),
}
CHAT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})
DPO_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
DPO_INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
MAX_IMAGES_PER_EXAMPLE = 10


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def check_chat(obj: Any) -> list[Finding]:
    """Findings for one supervised (chat) example."""
    if not isinstance(obj, dict):
        return [Finding("data_type", ERROR, f"the line is {_type_name(obj)}, not a JSON object")]
    out: list[Finding] = []
    for key in obj:
        if key not in CHAT_KEYS:
            out.append(
                Finding(
                    "unrecognized_key",
                    WARNING,
                    f"{key}: not a field of a chat example (allowed: "
                    "messages, tools, parallel_tool_calls, functions); it is ignored",
                )
            )
    _check_tools(obj, "", out)
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        what = "missing" if messages is None else f"{_type_name(messages)}, not a list"
        if isinstance(messages, list):
            what = "an empty list"
        out.append(Finding("missing_messages_list", ERROR, f"messages: {what}"))
        return out
    _check_messages(messages, "messages", out, images_allowed=True)
    _check_call_targets(obj, list(_indexed(messages, "messages")), out)
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if "assistant" not in roles:
        out.append(
            Finding(
                "example_missing_assistant_message",
                ERROR,
                "messages: no assistant message, so there is nothing to train on",
            )
        )
    elif all(
        m.get("weight") == 0
        for m in messages
        if isinstance(m, dict) and m.get("role") == "assistant"
    ):
        out.append(
            Finding(
                "no_trained_assistant_message",
                WARNING,
                "messages: every assistant message has weight 0, so nothing is trained",
            )
        )
    if "system" not in roles:
        out.append(Finding("missing_system_message", WARNING, "messages: no system message"))
    if "user" not in roles:
        out.append(Finding("missing_user_message", WARNING, "messages: no user message"))
    return out


def check_dpo(obj: Any) -> list[Finding]:
    """Findings for one preference (DPO) example."""
    if not isinstance(obj, dict):
        return [Finding("data_type", ERROR, f"the line is {_type_name(obj)}, not a JSON object")]
    out: list[Finding] = []
    for old, new in (
        ("preferred_completion", "preferred_output"),
        ("non_preferred_completion", "non_preferred_output"),
    ):
        if old in obj and new not in obj:
            out.append(Finding("dpo_missing_key", ERROR, f"{old}: the API expects {new}"))
    for key in obj:
        if key not in DPO_KEYS and key not in ("preferred_completion", "non_preferred_completion"):
            out.append(Finding("unrecognized_key", WARNING, f"{key}: not a field of a DPO example"))
    inp = obj.get("input")
    if not isinstance(inp, dict):
        what = "missing" if inp is None else f"{_type_name(inp)}, not an object"
        out.append(Finding("dpo_missing_key", ERROR, f"input: {what}"))
    else:
        for key in inp:
            if key not in DPO_INPUT_KEYS:
                out.append(
                    Finding("unrecognized_key", WARNING, f"input.{key}: not a field of a DPO input")
                )
        _check_tools(inp, "input.", out)
        messages = inp.get("messages")
        if not isinstance(messages, list) or not messages:
            out.append(
                Finding(
                    "missing_messages_list",
                    ERROR,
                    "input.messages: missing or not a non-empty list",
                )
            )
        else:
            _check_messages(messages, "input.messages", out, images_allowed=False)
            _check_call_targets(inp, list(_indexed(messages, "input.messages")), out)
            roles = [m.get("role") for m in messages if isinstance(m, dict)]
            if "assistant" in roles:
                out.append(
                    Finding(
                        "dpo_multi_turn",
                        WARNING,
                        "input.messages: has an assistant turn; DPO takes single-turn examples",
                    )
                )
            if "user" not in roles:
                out.append(
                    Finding("missing_user_message", WARNING, "input.messages: no user message")
                )
    outputs = []
    for key in ("preferred_output", "non_preferred_output"):
        value = obj.get(key)
        if value is None:
            if key.replace("output", "completion") not in obj:
                out.append(Finding("dpo_missing_key", ERROR, f"{key}: missing"))
            continue
        if not isinstance(value, list) or len(value) != 1:
            out.append(
                Finding(
                    "dpo_invalid_output", ERROR, f"{key}: must be a list of one assistant message"
                )
            )
            continue
        message = value[0]
        if not isinstance(message, dict) or message.get("role") != "assistant":
            out.append(
                Finding("dpo_invalid_output", ERROR, f"{key}[0]: must be an assistant message")
            )
            continue
        _check_message(message, f"{key}[0]", out, images_allowed=False)
        if isinstance(inp, dict):
            _check_call_targets(inp, [(f"{key}[0]", message)], out)
        outputs.append(message.get("content"))
    if len(outputs) == 2 and outputs[0] == outputs[1]:
        out.append(
            Finding(
                "dpo_identical_outputs",
                WARNING,
                "preferred_output and non_preferred_output are identical: nothing to learn",
            )
        )
    return out


def _check_tools(obj: dict[str, Any], prefix: str, out: list[Finding]) -> None:
    tools = obj.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            out.append(Finding("invalid_tools", ERROR, f"{prefix}tools: must be a list"))
        else:
            for i, tool in enumerate(tools):
                path = f"{prefix}tools[{i}]"
                if not isinstance(tool, dict) or tool.get("type") != "function":
                    out.append(
                        Finding(
                            "invalid_tools", ERROR, f'{path}: must be {{"type": "function", ...}}'
                        )
                    )
                    continue
                function = tool.get("function")
                if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                    out.append(Finding("invalid_tools", ERROR, f"{path}.function.name: missing"))
    parallel = obj.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        out.append(
            Finding(
                "invalid_parallel_tool_calls",
                ERROR,
                f"{prefix}parallel_tool_calls: must be true or false",
            )
        )
    functions = obj.get("functions")
    if functions is not None and (not isinstance(functions, list) or not functions):
        out.append(Finding("invalid_tools", ERROR, f"{prefix}functions: must be a non-empty list"))


def _check_messages(
    messages: list[Any], path: str, out: list[Finding], *, images_allowed: bool
) -> None:
    call_ids: set[str] = set()
    images = 0
    for i, message in enumerate(messages):
        here = f"{path}[{i}]"
        if not isinstance(message, dict):
            out.append(Finding("data_type", ERROR, f"{here}: {_type_name(message)}, not an object"))
            continue
        images += _check_message(message, here, out, images_allowed=images_allowed)
        role = message.get("role")
        if role == "assistant":
            for call in message.get("tool_calls") or ():
                if isinstance(call, dict) and isinstance(call.get("id"), str):
                    call_ids.add(call["id"])
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if isinstance(call_id, str) and call_id not in call_ids:
                out.append(
                    Finding(
                        "tool_message_without_call",
                        ERROR,
                        f"{here}.tool_call_id: {call_id!r} answers no tool call of an "
                        "earlier assistant message",
                    )
                )
    if images > MAX_IMAGES_PER_EXAMPLE:
        out.append(
            Finding(
                "too_many_images",
                ERROR,
                f"{path}: {images} images; at most {MAX_IMAGES_PER_EXAMPLE} per example",
            )
        )


def _check_message(
    message: dict[str, Any], here: str, out: list[Finding], *, images_allowed: bool
) -> int:
    """Check one message; returns the number of images it carries."""
    role = message.get("role")
    if "role" not in message:
        out.append(Finding("message_missing_key", ERROR, f'{here}: missing key "role"'))
    elif role not in ROLES:
        out.append(
            Finding(
                "unrecognized_role",
                ERROR,
                f"{here}.role: {role!r} is not one of {', '.join(ROLES)}",
            )
        )
    allowed = MESSAGE_KEYS.get(role) if isinstance(role, str) else None
    if allowed is not None:
        for key in message:
            if key not in allowed and key != "weight":
                out.append(
                    Finding(
                        "message_unrecognized_key",
                        ERROR,
                        f"{here}.{key}: not allowed in a {role} message",
                    )
                )
    images = _check_content(message, role, here, out, images_allowed=images_allowed)
    name = message.get("name")
    if name is not None and not isinstance(name, str):
        out.append(Finding("invalid_name", ERROR, f"{here}.name: must be a string"))
    if role == "function" and not isinstance(name, str):
        out.append(Finding("message_missing_key", ERROR, f'{here}: missing key "name"'))
    if "weight" in message:
        weight = message["weight"]
        if role != "assistant":
            message_text = f"{here}.weight: only assistant messages take a weight"
            out.append(Finding("weight_not_on_assistant", ERROR, message_text))
        elif type(weight) is not int or weight not in (0, 1):
            out.append(
                Finding("invalid_weight", ERROR, f"{here}.weight: must be 0 or 1, not {weight!r}")
            )
    if role == "assistant":
        _check_calls(message, here, out)
        if message.get("weight") != 0 and _ends_with_newline(message.get("content")):
            out.append(
                Finding(
                    "trailing_newline",
                    WARNING,
                    f"{here}.content: ends with a line break, which is trained in: "
                    "the model learns to end its answers with one",
                )
            )
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        out.append(Finding("message_missing_key", ERROR, f'{here}: missing key "tool_call_id"'))
    return images


def _check_content(
    message: dict[str, Any], role: Any, here: str, out: list[Finding], *, images_allowed: bool
) -> int:
    has_call = bool(message.get("tool_calls")) or bool(message.get("function_call"))
    if "content" not in message:
        if not (role == "assistant" and has_call):
            out.append(Finding("message_missing_key", ERROR, f'{here}: missing key "content"'))
        return 0
    content = message["content"]
    if isinstance(content, str):
        if not content.strip() and not has_call:
            out.append(Finding("missing_content", ERROR, f"{here}.content: empty"))
        return 0
    if content is None:
        if not (has_call or role == "function"):
            out.append(Finding("missing_content", ERROR, f"{here}.content: null"))
        return 0
    if not isinstance(content, list):
        out.append(
            Finding(
                "missing_content",
                ERROR,
                f"{here}.content: {_type_name(content)}; must be a string or a list of parts",
            )
        )
        return 0
    if not content:
        out.append(Finding("missing_content", ERROR, f"{here}.content: an empty list"))
        return 0
    allowed = PART_TYPES.get(role, frozenset()) if isinstance(role, str) else frozenset()
    images = 0
    for j, part in enumerate(content):
        where = f"{here}.content[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if not isinstance(part, dict) or not isinstance(kind, str):
            out.append(
                Finding("invalid_content_part", ERROR, f"{where}: must be an object with a type")
            )
            continue
        if kind == "image_url":
            images += 1
            if role != "user":
                out.append(
                    Finding(
                        "image_outside_user_message",
                        ERROR,
                        f"{where}: images are allowed in user messages only, not {role}",
                    )
                )
                continue
            if not images_allowed:
                out.append(
                    Finding("dpo_not_text_only", ERROR, f"{where}: DPO examples are text only")
                )
                continue
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else None
            if not isinstance(url, str) or not url:
                out.append(
                    Finding("invalid_content_part", ERROR, f"{where}.image_url.url: missing")
                )
            elif not url.startswith(("https://", "http://", "data:image/")):
                out.append(
                    Finding(
                        "invalid_content_part",
                        ERROR,
                        f"{where}.image_url.url: must be an https URL or a data:image/ URL",
                    )
                )
            continue
        if kind not in allowed:
            out.append(
                Finding(
                    "invalid_content_part",
                    ERROR,
                    f"{where}.type: {kind!r} parts are not allowed in a {role} message",
                )
            )
            continue
        field = "refusal" if kind == "refusal" else "text"
        if not isinstance(part.get(field), str):
            out.append(Finding("invalid_content_part", ERROR, f"{where}.{field}: must be a string"))
    return images


def _check_calls(message: dict[str, Any], here: str, out: list[Finding]) -> None:
    calls = message.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            out.append(Finding("invalid_tool_calls", ERROR, f"{here}.tool_calls: must be a list"))
        else:
            for k, call in enumerate(calls):
                where = f"{here}.tool_calls[{k}]"
                function = call.get("function") if isinstance(call, dict) else None
                if (
                    not isinstance(call, dict)
                    or not isinstance(call.get("id"), str)
                    or call.get("type") != "function"
                    or not isinstance(function, dict)
                ):
                    out.append(
                        Finding(
                            "invalid_tool_calls",
                            ERROR,
                            f'{where}: needs "id", "type": "function" and "function"',
                        )
                    )
                    continue
                if not isinstance(function.get("name"), str) or not isinstance(
                    function.get("arguments"), str
                ):
                    out.append(
                        Finding(
                            "invalid_tool_calls",
                            ERROR,
                            f"{where}.function: needs string name and arguments",
                        )
                    )
    call = message.get("function_call")
    if call is not None and (
        not isinstance(call, dict)
        or not isinstance(call.get("name"), str)
        or not isinstance(call.get("arguments"), str)
    ):
        message_text = f"{here}.function_call: needs string name and arguments"
        out.append(Finding("invalid_function_call", ERROR, message_text))


def _ends_with_newline(content: Any) -> bool:
    """True if the text of a message (a string, or its last text part) ends with a newline."""
    if isinstance(content, list) and content and isinstance(content[-1], dict):
        content = content[-1].get("text")
    return isinstance(content, str) and content.endswith("\n")


def _indexed(messages: list[Any], path: str) -> Iterator[tuple[str, Any]]:
    for i, message in enumerate(messages):
        yield f"{path}[{i}]", message


def _declared_functions(container: dict[str, Any]) -> set[str]:
    """Names of the functions an example declares in `tools` (or the legacy `functions`)."""
    names: set[str] = set()
    for tool in container.get("tools") or ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.add(function["name"])
    for function in container.get("functions") or ():
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.add(function["name"])
    return names


def _check_call_targets(
    container: dict[str, Any], messages: list[tuple[str, Any]], out: list[Finding]
) -> None:
    """Warn about calls the model would learn wrong: arguments that are not a JSON object,
    or a function the example does not declare. Malformed calls are _check_calls' errors."""
    tools, functions = container.get("tools"), container.get("functions")
    if (tools is not None and not isinstance(tools, list)) or (
        functions is not None and not isinstance(functions, list)
    ):
        return  # already an invalid_tools error
    declared = _declared_functions(container)
    for here, message in messages:
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        calls = message.get("tool_calls")
        targets = []
        if isinstance(calls, list):
            for k, call in enumerate(calls):
                function = call.get("function") if isinstance(call, dict) else None
                targets.append((f"{here}.tool_calls[{k}].function", function))
        if message.get("function_call") is not None:
            targets.append((f"{here}.function_call", message["function_call"]))
        for where, function in targets:
            if not isinstance(function, dict):
                continue
            name, arguments = function.get("name"), function.get("arguments")
            if not isinstance(name, str) or not isinstance(arguments, str):
                continue
            if name not in declared:
                known = ", ".join(sorted(declared)) if declared else "none"
                out.append(
                    Finding(
                        "undeclared_function",
                        WARNING,
                        f"{where}.name: {name!r} is not a function this example declares "
                        f"in tools (declared: {known})",
                    )
                )
            problem = _arguments_problem(arguments)
            if problem:
                out.append(Finding("invalid_arguments", WARNING, f"{where}.arguments: {problem}"))


def _arguments_problem(arguments: str) -> str | None:
    """Why a call's arguments string is not a JSON object, or None if it is one."""
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at character {exc.pos + 1})"
    except RecursionError:
        return "not valid JSON (nested too deeply)"
    if not isinstance(value, dict):
        return f"{_type_name(value)}, not a JSON object of arguments"
    return None
