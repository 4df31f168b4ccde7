"""The one place a profile becomes an openai SDK client (screens and commands call open_client).

OpenAI and gateways get `AsyncOpenAI`. Azure profiles come in two API styles: the classic one
(`AsyncAzureOpenAI` with an `api_version` query on every call) and the v1 API (`api_version: v1`,
the plain `AsyncOpenAI` client on `ENDPOINT/openai/v1/`). Azure auth is the key from the
profile's env var, or Microsoft Entra ID (`auth: entra`) through azure-identity, an optional
extra (`pip install 'tunebench[azure]'`).

The SDK's own environment variables keep working: with no base_url in the profile the SDK
reads OPENAI_BASE_URL; organization/project fall back to OPENAI_ORG_ID / OPENAI_PROJECT_ID;
Azure's endpoint and version fall back to AZURE_OPENAI_ENDPOINT / OPENAI_API_VERSION.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.config import LoadedConfig
from tui.config_schema import Profile
from tui.errors import UsageError, note_api_context

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from tui.api.arm import ArmDeployments

DEFAULT_AZURE_API_VERSION = "2025-04-01-preview"
V1 = "v1"
LOCAL_NO_KEY = "local"  # a loopback `tunebench serve` takes any key; the SDK needs one
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
MANAGEMENT_SCOPE = "https://management.azure.com/.default"


def default_credential(profile_name: str) -> Any:
    """azure-identity's DefaultAzureCredential (env vars, managed identity, `az login`, …)."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise UsageError(
            f"profile {profile_name!r} uses auth: entra, which needs azure-identity: "
            "pip install 'tunebench[azure]'"
        ) from None
    return DefaultAzureCredential()


def token_provider(credential: Any, scope: str) -> Callable[[], Awaitable[str]]:
    """An async bearer-token callable for the SDK; azure-identity caches and refreshes the
    token, and a credential that shells out (`az`) runs off the event loop."""
    from azure.identity import get_bearer_token_provider

    provider = get_bearer_token_provider(credential, scope)

    async def token() -> str:
        return await asyncio.to_thread(provider)

    return token


@dataclass(frozen=True)
class Endpoint:
    """A named profile, ready to build clients from. `credential` overrides Entra's
    DefaultAzureCredential (tests inject one; nothing else should)."""

    name: str
    profile: Profile
    credential: Any = None

    @property
    def is_azure(self) -> bool:
        return self.profile.kind == "azure"

    @property
    def uses_entra(self) -> bool:
        return self.is_azure and self.profile.auth == "entra"

    @property
    def azure_v1(self) -> bool:
        """The Azure v1 API (no api-version), chosen by `api_version: v1` or a base_url
        that ends in /openai/v1."""
        if not self.is_azure:
            return False
        base = (self.profile.base_url or "").rstrip("/")
        return self.profile.api_version == V1 or base.endswith("/openai/v1")

    def api_key(self) -> str:
        """The key from the profile's env var (or a literal in a private config file)."""
        if self.profile.api_key is not None:
            return self.profile.api_key.get_secret_value()
        env = self.key_env()
        value = os.environ.get(env, "").strip()
        if not value and self.profile.kind == "local":
            return LOCAL_NO_KEY
        if not value:
            raise UsageError(
                f"no API key: profile {self.name!r} reads ${env}, which is not set "
                f"(export {env}=... or choose another profile with --profile)"
            )
        return value

    def key_env(self) -> str:
        env = self.profile.api_key_env
        if self.is_azure and env == "OPENAI_API_KEY" and os.environ.get("AZURE_OPENAI_API_KEY"):
            return "AZURE_OPENAI_API_KEY"
        return env

    def azure_endpoint(self) -> str:
        endpoint = self.profile.endpoint or os.environ.get("AZURE_OPENAI_ENDPOINT")
        if not endpoint:
            raise UsageError(
                f"profile {self.name!r} (azure) needs an endpoint "
                "(https://RESOURCE.openai.azure.com) or $AZURE_OPENAI_ENDPOINT"
            )
        return endpoint.rstrip("/")

    def api_version(self) -> str:
        return (
            self.profile.api_version
            or os.environ.get("OPENAI_API_VERSION")
            or DEFAULT_AZURE_API_VERSION
        )

    def credential_or_default(self) -> Any:
        return self.credential if self.credential is not None else default_credential(self.name)

    def async_client(self, *, max_retries: int = 2, timeout: float | None = 60.0) -> AsyncOpenAI:
        import openai

        kwargs: dict[str, Any] = {"max_retries": max_retries}
        if timeout is not None:
            kwargs["timeout"] = timeout
        if self.profile.organization:
            kwargs["organization"] = self.profile.organization
        if self.profile.project:
            kwargs["project"] = self.profile.project
        token = (
            token_provider(self.credential_or_default(), COGNITIVE_SERVICES_SCOPE)
            if self.uses_entra
            else None
        )
        if not self.uses_entra:
            kwargs["api_key"] = self.api_key()
        note_api_context(self.name, None if token else self.key_env())
        if not self.is_azure:
            if self.profile.base_url:
                kwargs["base_url"] = self.profile.base_url
            return openai.AsyncOpenAI(**kwargs)
        if self.azure_v1:
            kwargs["base_url"] = self.profile.base_url or f"{self.azure_endpoint()}/openai/v1/"
            if token is not None:
                kwargs["api_key"] = token
            return openai.AsyncOpenAI(**kwargs)
        kwargs["api_version"] = self.api_version()
        if token is not None:
            kwargs["azure_ad_token_provider"] = token
        if self.profile.base_url:
            kwargs["base_url"] = self.profile.base_url
        else:
            kwargs["azure_endpoint"] = self.azure_endpoint()
        return openai.AsyncAzureOpenAI(**kwargs)


def arm_deployments(endpoint: Endpoint) -> ArmDeployments:
    """The Azure Resource Manager client for the profile's resource (deployments)."""
    from tui.api.arm import ArmDeployments

    profile, name = endpoint.profile, endpoint.name
    if not endpoint.is_azure:
        raise UsageError(
            f"profile {name!r} is kind {profile.kind}: deployments are an Azure thing "
            "(choose an azure profile with --profile)"
        )
    account = profile.account or _account_from_endpoint(profile.endpoint)
    missing = [
        key
        for key, value in (
            ("subscription_id", profile.subscription_id),
            ("resource_group", profile.resource_group),
            ("account", account),
        )
        if not value
    ]
    if missing:
        raise UsageError(
            f"profile {name!r} needs {', '.join(missing)} to manage deployments "
            "(the Azure resource that holds the model; see the README's Azure section)"
        )
    assert profile.subscription_id and profile.resource_group and account
    return ArmDeployments(
        profile.arm_url,
        profile.subscription_id,
        profile.resource_group,
        account,
        _arm_token(endpoint),
    )


def _arm_token(endpoint: Endpoint) -> Callable[[], Awaitable[str]]:
    env = endpoint.profile.arm_token_env
    if env:

        async def from_env() -> str:
            value = os.environ.get(env, "").strip()
            if not value:
                raise UsageError(
                    f"no ARM token: profile {endpoint.name!r} reads ${env}, which is not set "
                    f"(export {env}=$(az account get-access-token --query accessToken -o tsv))"
                )
            return value

        return from_env
    if endpoint.uses_entra:
        return token_provider(endpoint.credential_or_default(), MANAGEMENT_SCOPE)
    raise UsageError(
        f"profile {endpoint.name!r} has no way to reach Azure Resource Manager: set "
        "arm_token_env (a token from `az account get-access-token`) or auth: entra"
    )


def _account_from_endpoint(endpoint: str | None) -> str | None:
    """RESOURCE from https://RESOURCE.openai.azure.com (or .cognitiveservices.azure.com)."""
    from urllib.parse import urlparse

    host = urlparse(endpoint or "").hostname or ""
    for suffix in (".openai.azure.com", ".cognitiveservices.azure.com"):
        if host.endswith(suffix):
            return host.removesuffix(suffix)
    return None


def endpoint_for(loaded: LoadedConfig, requested: str | None = None) -> Endpoint:
    """The endpoint of the requested profile (else $TUNEBENCH_PROFILE, else the default)."""
    name, profile = loaded.profile(requested)
    return Endpoint(name, profile)


def open_client(
    loaded: LoadedConfig,
    requested: str | None = None,
    *,
    max_retries: int = 2,
    timeout: float | None = 60.0,
) -> AsyncOpenAI:
    """An async SDK client for a profile of the loaded config."""
    return endpoint_for(loaded, requested).async_client(max_retries=max_retries, timeout=timeout)
