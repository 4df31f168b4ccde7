"""Profiles become the right SDK client; a missing key is one clear line."""

from __future__ import annotations

import pytest

from tui.api.client import Endpoint
from tui.config_schema import Profile
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


def test_azure_v1_profile_builds_plain_client_on_openai_v1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import openai

    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key")
    profile = Profile(
        kind="azure",
        endpoint="https://example-resource.openai.azure.com/",
        api_key_env="AZURE_OPENAI_API_KEY",
        api_version="v1",
    )
    client = Endpoint("az", profile).async_client()
    assert type(client) is openai.AsyncOpenAI
    assert str(client.base_url) == "https://example-resource.openai.azure.com/openai/v1/"


def test_entra_without_azure_identity_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "azure.identity", None)
    profile = Profile(kind="azure", endpoint="https://r.openai.azure.com", auth="entra")
    with pytest.raises(UsageError, match=r"needs azure-identity: pip install 'tunebench\[azure\]'"):
        Endpoint("az", profile).async_client()


def test_entra_profile_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import openai
    from azure.core.credentials import AccessToken

    class Credential:
        def get_token(self, *scopes: str, **_: object) -> AccessToken:
            return AccessToken(f"token-for-{scopes[0]}", 4102444800)

    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    profile = Profile(kind="azure", endpoint="https://r.openai.azure.com", auth="entra")
    client = Endpoint("az", profile, credential=Credential()).async_client()
    assert isinstance(client, openai.AsyncAzureOpenAI)
