"""Profile → an openai SDK client (AsyncOpenAI or AsyncAzureOpenAI), lazily imported.

The SDK's own environment variables keep working: with no base_url in the profile the SDK
reads OPENAI_BASE_URL; organization/project fall back to OPENAI_ORG_ID / OPENAI_PROJECT_ID;
Azure's endpoint and version fall back to AZURE_OPENAI_ENDPOINT / OPENAI_API_VERSION.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.config import Profile
from tui.errors import UsageError, note_api_context

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

DEFAULT_AZURE_API_VERSION = "2025-04-01-preview"


@dataclass(frozen=True)
class Endpoint:
    """A named profile, ready to build clients from."""

    name: str
    profile: Profile

    def api_key(self) -> str:
        """The key from the profile's env var (or a literal in a private config file)."""
        if self.profile.api_key is not None:
            return self.profile.api_key.get_secret_value()
        env = self.profile.api_key_env
        if self.profile.kind == "azure" and env == "OPENAI_API_KEY":
            env = "AZURE_OPENAI_API_KEY" if os.environ.get("AZURE_OPENAI_API_KEY") else env
        value = os.environ.get(env, "").strip()
        if not value:
            raise UsageError(
                f"no API key: profile {self.name!r} reads ${env}, which is not set "
                f"(export {env}=... or choose another profile with --profile)"
            )
        return value

    def _kwargs(self, max_retries: int, timeout: float | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"api_key": self.api_key(), "max_retries": max_retries}
        if timeout is not None:
            kwargs["timeout"] = timeout
        if self.profile.organization:
            kwargs["organization"] = self.profile.organization
        if self.profile.project:
            kwargs["project"] = self.profile.project
        if self.profile.kind == "azure":
            kwargs["api_version"] = (
                self.profile.api_version
                or os.environ.get("OPENAI_API_VERSION")
                or DEFAULT_AZURE_API_VERSION
            )
            if self.profile.base_url:
                kwargs["base_url"] = self.profile.base_url
            else:
                kwargs["azure_endpoint"] = self.profile.endpoint or os.environ.get(
                    "AZURE_OPENAI_ENDPOINT"
                )
        elif self.profile.base_url:
            kwargs["base_url"] = self.profile.base_url
        return kwargs

    def async_client(self, *, max_retries: int = 2, timeout: float | None = 60.0) -> AsyncOpenAI:
        import openai

        cls = openai.AsyncAzureOpenAI if self.profile.kind == "azure" else openai.AsyncOpenAI
        return cls(**self._client_kwargs(max_retries, timeout))

    def sync_client(self, *, max_retries: int = 2, timeout: float | None = 60.0) -> OpenAI:
        import openai

        cls = openai.AzureOpenAI if self.profile.kind == "azure" else openai.OpenAI
        return cls(**self._client_kwargs(max_retries, timeout))

    def _client_kwargs(self, max_retries: int, timeout: float | None) -> dict[str, Any]:
        kwargs = self._kwargs(max_retries, timeout)
        note_api_context(self.name, self.profile.api_key_env)
        return kwargs
