"""HTTP errors with the body the real API sends: `{"error": {message, type, param, code}}`."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def not_found(what: str, ident: str, *, param: str | None = None) -> ApiError:
    return ApiError(404, f"No such {what}: '{ident}'", param=param)


def model_not_found(model: str) -> ApiError:
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def invalid(param: str, message: str, code: str = "invalid_value") -> ApiError:
    return ApiError(400, f"Invalid '{param}': {message}", param=param, code=code)


def missing(param: str) -> ApiError:
    return ApiError(
        400,
        f"Missing required parameter: '{param}'.",
        param=param,
        code="missing_required_parameter",
    )


def check_int_range(param: str, value: int, lo: int, hi: int | None) -> None:
    """Refuse an integer outside [lo, hi] with the API's wording and code."""
    if value < lo:
        raise invalid(
            param,
            f"integer below minimum value. Expected a value >= {lo}, but got {value} instead.",
            "integer_below_min_value",
        )
    if hi is not None and value > hi:
        raise invalid(
            param,
            f"integer above maximum value. Expected a value <= {hi}, but got {value} instead.",
            "integer_above_max_value",
        )


def array_too_long(param: str, length: int, maximum: int) -> ApiError:
    return invalid(
        param,
        f"array too long. Expected an array with maximum length {maximum}, but got an array "
        f"with length {length} instead.",
        "array_above_max_length",
    )
