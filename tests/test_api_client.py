"""Profiles become the right SDK client; a missing key is one clear line."""

from __future__ import annotations

import pytest

from tui.api.client import Endpoint
from tui.config import Profile
from tui.errors import UsageError


def test_missing_key_names_the_variable() -> None:
    endpoint = Endpoint("work", Profile(api_key_env="WORK_KEY"))
    with pytest.raises(UsageError, match=r"profile 'work' reads \$WORK_KEY, which is not set"):
        endpoint.async_client()


def test_openai_profile_builds_async_client(monkeypatch: pytest.MonkeyPatch) -> None:
    import openai

    monkeypatch.setenv("GW_KEY", "sk-gateway-key")
    endpoint = Endpoint("gw", Profile(api_key_env="GW_KEY", base_url="http://127.0.0.1:9/v1"))
    client = endpoint.async_client()
    assert type(client) is openai.AsyncOpenAI
    assert str(client.base_url) == "http://127.0.0.1:9/v1/"
    assert client.api_key == "sk-gateway-key"


def test_azure_profile_builds_azure_client(monkeypatch: pytest.MonkeyPatch) -> None:
    import openai

    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key")
    profile = Profile(
        kind="azure",
        endpoint="https://example-resource.openai.azure.com",
        api_key_env="AZURE_OPENAI_API_KEY",
        api_version="2025-04-01-preview",
    )
    client = Endpoint("az", profile).async_client()
    assert isinstance(client, openai.AsyncAzureOpenAI)
    assert str(client.base_url).startswith("https://example-resource.openai.azure.com/openai")
