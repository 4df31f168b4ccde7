"""Azure's data-plane refusals that need an Azure-specific next step become one line."""

from __future__ import annotations

import httpx2
import openai

from tui.errors import describe


def refusal(status: int, code: str, message: str) -> openai.APIStatusError:
    url = "https://r.openai.azure.com/openai/fine_tuning/jobs?api-version=2024-10-21"
    request = httpx2.Request("POST", url)
    body = {"error": {"code": code, "message": message}}
    response = httpx2.Response(status, request=request, json=body)
    return openai.APIStatusError(message, response=response, body=body)


def test_quota_says_what_to_do() -> None:
    line = describe(refusal(429, "InsufficientQuota", "The quota for this region is used up."))
    assert line.startswith("not enough Azure quota (429 InsufficientQuota): request more quota")
    assert "trainingType globalstandard" in line and "\n" not in line


def test_model_not_available_for_fine_tuning_here() -> None:
    line = describe(
        refusal(400, "invalidPayload", "The specified base model does not support fine-tuning.")
    )
    assert line.startswith("this model cannot be fine-tuned here (400): pick a model and region")


def test_unknown_api_version() -> None:
    line = describe(refusal(400, "BadRequest", "API version not supported"))
    assert line.startswith("Azure does not support this api_version (400): use 2024-10-21")
