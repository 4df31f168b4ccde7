"""The one place that turns failures into a single human line.

The CLI prints that line on stderr and exits with the error's code; the TUI shows it as a
notification and inline next to what failed. `--debug` adds the traceback.
Never imports textual or the openai SDK at module level.
"""

from __future__ import annotations

import errno
import sys
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1  # the checked thing failed (validation errors, a job that failed)
EXIT_USAGE = 2  # usage, config or unusable input


class TunebenchError(Exception):
    """An error whose message is already fit for a user: one plain line."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class UsageError(TunebenchError):
    """Bad arguments, bad config or unusable input: exit 2."""


class CheckFailed(TunebenchError):
    """The checked thing failed (e.g. a file with errors): exit 1."""

    exit_code = EXIT_FAILED


class AzureManagementError(Exception):
    """Azure Resource Manager answered with an error (`{"error": {"code", "message"}}`)."""

    def __init__(self, status: int, code: str, message: str, *, action: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.action = action  # e.g. "deploy gpt-4.1-mini-2025-04-14.ft-…", for the line


_api_context: dict[str, str] = {}


def note_api_context(profile: str, key_env: str | None) -> None:
    """Remember which profile and key variable the API calls use, to name them in errors
    (key_env None: the profile signs in with Microsoft Entra ID)."""
    _api_context.clear()
    _api_context.update(profile=profile, key_env=key_env or "")


WIND_DOWN = (
    "fine-tuning is not available to this organisation; OpenAI stops new fine-tuning jobs "
    "for everyone after 2027-01-06 (chat with existing tuned models keeps working). "
    "To train, use an Azure OpenAI or gateway profile (--profile)"
)


def _describe_api_error(exc: BaseException) -> str | None:
    """Plain words for errors raised by the openai SDK, if that is what this is."""
    openai = sys.modules.get("openai")
    if openai is None or not isinstance(exc, openai.OpenAIError):
        return None
    if isinstance(exc, openai.APITimeoutError):
        return "the API did not answer in time (timeout); check the network or try again"
    if isinstance(exc, openai.APIConnectionError):
        return "cannot reach the API (network down or wrong base_url in the profile)"
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = _api_error_detail(exc.body) or str(exc.message)
        request = f" [request {exc.request_id}]" if getattr(exc, "request_id", None) else ""
        if status == 401:
            return _refused(detail, request)
        if status == 403:
            if _is_job_create(exc):
                return f"permission denied (403): {WIND_DOWN}. API said: {detail}{request}"
            return f"permission denied (403): {detail}{request}"
        azure = _azure_advice(exc, status, detail)
        if azure is not None:
            return f"{azure}{request}"
        if status == 404:
            if _error_code(exc) == "model_not_found":
                return f"model not found (404): {detail}{request}"
            return f"not found (404): {detail}{request}"
        if status == 429:
            wait = retry_after_seconds(exc)
            advice = f"the API asks to wait {wait:g} s" if wait is not None else "wait"
            return f"rate limited (429), retries used up; {advice} and try again: {detail}{request}"
        if status >= 500:
            return f"the API had a server error ({status}): {detail}{request}"
        return f"the API refused the request ({status}): {detail}{request}"
    return f"API error: {exc}"


def _refused(detail: str, request: str) -> str:
    profile = _api_context.get("profile")
    env = _api_context.get("key_env")
    if profile and not env:
        return (
            f"the Microsoft Entra ID token was refused (401, profile {profile}); check "
            f"`az login` and the account's role on the resource: {detail}{request}"
        )
    source = f" (read from ${env}, profile {profile})" if env else ""
    return f"the API key was refused (401){source}: {detail}{request}"


def retry_after_seconds(exc: BaseException) -> float | None:
    """The wait a 429/5xx error's response asks for, if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    return retry_after(headers) if headers is not None else None


def retry_after(headers: Any) -> float | None:
    """The wait response headers ask for: `retry-after-ms` (OpenAI's), else `retry-after` in
    seconds or as an HTTP date. None when neither is there or readable."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    import time

    return max(0.0, when.timestamp() - time.time())


def _is_job_create(exc: Any) -> bool:
    request = getattr(exc, "request", None)
    if request is None:
        return False
    return request.method == "POST" and str(request.url.path).endswith("/fine_tuning/jobs")


def _error_code(exc: Any) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error", body)
    return str(inner.get("code") or "") if isinstance(inner, dict) else ""


def _azure_advice(exc: Any, status: int, detail: str) -> str | None:
    """Azure's data-plane answers that need an Azure-specific next step, as one line."""
    code = _error_code(exc)
    lowered = detail.lower()
    if status == 404 and code == "404" and detail == "Resource not found":
        return (
            "Azure answered 404 Resource not found: the URL lacks a supported api-version or "
            "the endpoint is wrong; use kind: azure with endpoint "
            "https://RESOURCE.openai.azure.com and api_version "
            "(2024-10-21, 2025-04-01-preview, or v1)"
        )
    if status == 400 and "api version not supported" in lowered:
        return (
            "Azure does not support this api_version (400): use 2024-10-21 (GA), "
            "2025-04-01-preview, or v1 in the profile"
        )
    if code == "DeploymentNotFound":
        return (
            f"no deployment by that name (404 DeploymentNotFound): on Azure a tuned model "
            f"answers only once deployed; deploy it first (tunebench deploy MODEL --name NAME, "
            f"or d on the job in the app), then use the deployment name. API said: {detail}"
        )
    if "quota" in code.lower() or "quota" in lowered:
        return (
            f"not enough Azure quota ({status} {code or 'quota'}): request more quota for this "
            f"region, lower the capacity, or try trainingType globalstandard. API said: {detail}"
        )
    if "fine-tun" in lowered and ("not available" in lowered or "not support" in lowered):
        return (
            f"this model cannot be fine-tuned here ({status}): pick a model and region that "
            f"offer fine-tuning (Azure's fine-tuning models table) or trainingType "
            f"globalstandard. API said: {detail}"
        )
    return None


def _api_error_detail(body: Any) -> str | None:
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return None


def _describe_arm_error(exc: AzureManagementError) -> str:
    what = f"{exc.action}: " if exc.action else ""
    said = f"({exc.status} {exc.code}): {exc.message}"
    if exc.status == 401:
        return (
            f"{what}Azure Resource Manager refused the token {said}; put a fresh one from "
            "`az account get-access-token` in the profile's arm_token_env, or use auth: entra"
        )
    if exc.status == 403:
        return (
            f"{what}permission denied {said}; deploying needs a role with "
            "Microsoft.CognitiveServices/accounts/deployments/write on the resource"
        )
    if exc.code == "DeploymentModelNotSupported":
        return (
            f"{what}this model cannot be deployed here {said}; check the model id "
            "(`tunebench jobs list`) and that the region offers the SKU"
        )
    if "quota" in exc.code.lower() or "capacity" in exc.code.lower():
        return f"{what}not enough quota {said}; lower --capacity or request more quota"
    if exc.status == 404:
        return (
            f"{what}not found {said}; check subscription_id, resource_group and account "
            "in the profile"
        )
    return f"{what}Azure Resource Manager refused the request {said}"


def describe(exc: BaseException) -> str:
    """One line a user can act on, for any exception."""
    if isinstance(exc, TunebenchError):
        return exc.message
    if isinstance(exc, AzureManagementError):
        return _describe_arm_error(exc)
    api = _describe_api_error(exc)
    if api is not None:
        return api
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename}: no such file"
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename}: is a directory, not a file"
    if isinstance(exc, PermissionError):
        return f"{exc.filename}: permission denied"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 text (byte {exc.start})"
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"unexpected error: {type(exc).__name__}{': ' + first if first else ''}"


_WRITE_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "its folder does not exist",
}


def write_failure(what: str, exc: OSError) -> str:
    """One line for a write that failed: `what` (e.g. "save pairs.jsonl") and why, in words."""
    reason = _WRITE_REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    return f"Could not {what}: {reason}"


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, TunebenchError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return 130
    if isinstance(exc, (OSError, UnicodeDecodeError)):
        return EXIT_USAGE
    return EXIT_FAILED
