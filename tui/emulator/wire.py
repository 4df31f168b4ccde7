"""Request bodies in and JSON out, as the real API reads and writes them.

Every way a body can be unusable (wrong content type, bytes that are not UTF-8, JSON that does
not parse, multipart that does not parse) becomes a 400 in the API's error shape here, never a
500; and a response can always be written, even when it echoes text holding lone surrogates.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from tui.emulator.errors import ApiError, invalid

_NOT_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please contact "
    "us through our help center at help.openai.com.)"
)


def dumps(body: Any) -> bytes:
    """JSON as UTF-8; text the client sent with lone surrogates goes back \\u-escaped."""
    try:
        return json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(body).encode()


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(body), status=status, content_type="application/json")


def error_response(error: ApiError) -> web.Response:
    response = json_response(error.body(), status=error.status)
    response.headers.update(error.headers)
    return response


def _unsupported(content_type: str, expected: str) -> ApiError:
    return ApiError(
        400,
        f"Unsupported content type: '{content_type}'. This API method only accepts "
        f"'{expected}' requests, but you specified the header 'Content-Type: {content_type}'. "
        "Please try again with a supported content type.",
    )


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; a body without a Content-Type header is read as JSON too."""
    declared = request.headers.get("Content-Type")
    if declared is not None and request.content_type != "application/json":
        raise _unsupported(request.content_type, "application/json")
    raw = await request.read()
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, _NOT_JSON) from None
    if not isinstance(body, dict):
        raise ApiError(400, _NOT_JSON)
    return body


async def form_body(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The multipart form of an upload; a form that does not parse is the client's error."""
    if request.content_type != "multipart/form-data":
        raise _unsupported(request.content_type, "multipart/form-data")
    try:
        return await request.post()
    except (ValueError, UnicodeDecodeError, AssertionError, HttpProcessingError, KeyError):
        raise ApiError(
            400,
            "Could not parse multipart form: the body is not valid multipart/form-data.",
        ) from None


def clean_text(text: str) -> str:
    """Text decoded with surrogate escapes (aiohttp's filenames) made valid: bad bytes -> U+FFFD."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def limit(request: web.Request, default: int, maximum: int) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(
            "limit", f"expected an integer, but got {raw!r} instead.", "invalid_type"
        ) from None
    if not 1 <= value <= maximum:
        raise invalid("limit", f"expected a value between 1 and {maximum}, but got {value}.")
    return value
