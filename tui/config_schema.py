"""The config file's schema as pydantic models: the full check of a config, every problem
pinned to the key it is about, and the source of `tunebench config reference`.

The app's way to its first screen does not come here: `tui.config` reads a plain, valid
file without pydantic (`startup_of`) and the full check runs when the rest of the config is
first used; a file that plain reading is not sure of is checked here at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from tui.config import LoadedConfig, is_env_name, is_separator, mask_secret
from tui.core.models import DEFAULT_MODEL
from tui.errors import UsageError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, use_attribute_docstrings=True)


class Profile(_Section):
    """One API endpoint: OpenAI, Azure OpenAI, or any OpenAI-compatible base URL."""

    kind: Literal["openai", "azure", "emulator", "local"] = "openai"
    """Which API this is: OpenAI itself, Azure OpenAI, the tunebench emulator, or a local
    trainer (`tunebench serve`; base_url required, key optional on loopback)."""
    base_url: str | None = None
    """Override the API base URL (a gateway, a proxy, the emulator). None: the SDK default."""
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable holding the key. The key itself is never written here."""
    api_key: SecretStr | None = None
    """A literal key. Accepted with a warning; refused if the file is readable by others."""
    organization: str | None = None
    """OpenAI organization id (sent as OpenAI-Organization); else $OPENAI_ORG_ID."""
    project: str | None = None
    """OpenAI project id (sent as OpenAI-Project); else $OPENAI_PROJECT_ID."""
    endpoint: str | None = None
    """Azure only: https://NAME.openai.azure.com"""
    api_version: str | None = None
    """Azure only: the api-version query parameter (e.g. 2025-04-01-preview),
    or v1 for the v1 API at ENDPOINT/openai/v1/."""
    auth: Literal["key", "entra"] = "key"
    """Azure only: key (the api-key from api_key_env) or entra (Microsoft Entra ID
    through azure-identity: `pip install 'tunebench[azure]'`)."""
    subscription_id: str | None = None
    """Azure only, for deployments: the subscription that holds the resource."""
    resource_group: str | None = None
    """Azure only, for deployments: the resource group of the Azure OpenAI resource."""
    account: str | None = None
    """Azure only, for deployments: the resource (account) name; default: from the endpoint's
    host name."""
    arm_url: str = "https://management.azure.com"
    """Azure only: the Azure Resource Manager endpoint deployments are managed through."""
    arm_token_env: str | None = None
    """Azure only: env var holding an ARM bearer token (`az account get-access-token`); else
    auth: entra signs in."""

    @field_validator("api_key_env", "arm_token_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not is_env_name(value):
            raise ValueError(f"not an environment variable name: {value!r}")
        return value


class DatasetSettings(_Section):
    system_prompt: str = ""
    """Default system prompt for examples that have none (the seed: 'Popraw gramatykę zdania.')."""
    separator: str = ";"
    """Separator between input and output in pairs text files."""

    @field_validator("separator")
    @classmethod
    def _separator(cls, value: str) -> str:
        if not is_separator(value):
            raise ValueError("the pair separator must be a visible character or string")
        return value


class Defaults(_Section):
    # `base_model` is its old name, still read.
    model: str = Field(default=DEFAULT_MODEL, validation_alias=AliasChoices("model", "base_model"))
    """The one default base model: validate's tokens and cost, the app, `jobs create`."""
    epochs: int | Literal["auto"] = "auto"
    """Training epochs: auto (OpenAI's rule from the number of examples) or 1..50."""

    @field_validator("epochs")
    @classmethod
    def _epochs(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 50:
            raise ValueError("epochs must be 'auto' or a whole number from 1 to 50")
        return value


class UISettings(_Section):
    theme: str = "textual-dark"
    """A Textual theme name (textual-dark, textual-light, nord, gruvbox, …)."""
    poll_interval: float = Field(default=2.0, gt=0, le=600)
    """Seconds between job polls while a job is running."""
    bell_on_job_end: bool = False
    """Ring the terminal bell when a followed job succeeds, fails or is cancelled."""


class Config(_Section):
    default_profile: str = "openai"
    """The profile used when neither --profile nor $TUNEBENCH_PROFILE names one."""
    profiles: dict[str, Profile] = Field(default_factory=lambda: {"openai": Profile()})
    """Named API endpoints (see the profile keys below)."""
    dataset: DatasetSettings = Field(default_factory=DatasetSettings)
    defaults: Defaults = Field(default_factory=Defaults)
    ui: UISettings = Field(default_factory=UISettings)
    keys: dict[str, str] = Field(default_factory=dict)
    """Other keys for actions: binding id → keys, e.g. `dataset.new: ctrl+e` (ids: README, Keys)."""


def reference_markdown() -> str:
    """The config reference for the README, generated from the schema so it cannot drift."""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    sections: list[tuple[str, type[BaseModel]]] = [
        ("", Config),
        ("profiles.NAME.", Profile),
        ("dataset.", DatasetSettings),
        ("defaults.", Defaults),
        ("ui.", UISettings),
    ]
    for prefix, model in sections:
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                continue
            default = info.get_default(call_default_factory=True)
            if default is None or isinstance(default, dict):
                shown = ""
            else:
                shown = f"`{str(default).lower() if isinstance(default, bool) else default}`"
                shown = '`""`' if default == "" else shown
            kind = _type_name(annotation)
            meaning = (info.description or "").replace("\n", " ").replace("|", "\\|")
            rows.append(f"| `{prefix}{name}` | {kind} | {shown} | {meaning} |")
    return "\n".join(rows) + "\n"


def _type_name(annotation: Any) -> str:
    """A reader's name for a field type: text, number, one of …, optional."""
    import types
    import typing

    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    optional = len(args) < len(typing.get_args(annotation))
    if typing.get_origin(annotation) is Literal:
        return " or ".join(f"`{a}`" for a in typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in args]
        return " or ".join(parts) + (" (optional)" if optional else "")
    names: dict[Any, str] = {
        str: "text",
        float: "number",
        int: "whole number",
        bool: "true or false",
    }
    if annotation is SecretStr:
        return "secret"
    if typing.get_origin(annotation) is dict:
        value = typing.get_args(annotation)[1]
        return "mapping of name → profile" if value is Profile else "mapping of binding id → keys"
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def check_config(text: str, path: Path) -> Config:
    """The config of YAML text, fully checked; a problem raises a UsageError with
    PATH:LINE:COL."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = _yaml_error_mark(exc, text)
        where = f"{path}:{mark[0]}:{mark[1]}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise UsageError(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: invalid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else 1
        col = root.start_mark.column + 1 if root is not None else 1
        raise UsageError(f"{path}:{line}:{col}: the config must be a mapping of sections")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        line, col = _locate(root, loc)
        raise UsageError(f"{path}:{line}:{col}: {_explain(loc, error)}") from None
    if config.default_profile not in config.profiles:
        line, col = _locate(root, ("default_profile",))
        known = ", ".join(sorted(config.profiles)) or "none"
        raise UsageError(
            f"{path}:{line}:{col}: default_profile {config.default_profile!r} is not a "
            f"profile (profiles: {known})"
        )
    for name, profile in config.profiles.items():
        if profile.kind == "azure" and not (profile.endpoint or profile.base_url):
            line, col = _locate(root, ("profiles", name))
            raise UsageError(f"{path}:{line}:{col}: profile {name!r} (azure) needs an endpoint")
        if profile.kind == "local" and not profile.base_url:
            line, col = _locate(root, ("profiles", name))
            raise UsageError(
                f"{path}:{line}:{col}: profile {name!r} (local) needs the base_url of a "
                "`tunebench serve`, e.g. http://127.0.0.1:8321/v1"
            )
    return config


def _explain(loc: tuple[Any, ...], error: Any) -> str:
    dotted = ".".join(str(part) for part in loc) or "config"
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        parent = ".".join(str(p) for p in loc[:-1])
        allowed = _allowed_keys(loc[:-1])
        where = f" in {parent}" if parent else ""
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown key {loc[-1]!r}{where}{hint}"
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    return f"{dotted}: {message}"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Config
    for part in loc:
        if model is Config and part == "profiles":
            model = "profiles"
            continue
        if model == "profiles":
            model = Profile
            continue
        is_model = isinstance(model, type) and issubclass(model, BaseModel)
        field_info = model.model_fields.get(part) if is_model else None
        if field_info is None:
            return []
        model = field_info.annotation
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _yaml_error_mark(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int] | None:
    """1-based line and column of a YAML error, on the line where the mistake is.

    PyYAML notices some mistakes only on a later line: a key without its `:` when the next
    key starts, an unclosed bracket or quote at the end of the file. Those point at what was
    left open (the context mark) or at the last text before the end.
    """
    problem, context = exc.problem_mark, exc.context_mark
    if problem is None:
        return None if context is None else (context.line + 1, context.column + 1)
    end = len(text.rstrip())
    if exc.context == "while scanning a simple key" and context is not None:
        return context.line + 1, context.column + 1
    if problem.index >= end and end > 0:
        last_line = text.count("\n", 0, end - 1)
        if context is not None and context.line == last_line:
            return context.line + 1, context.column + 1
        return last_line + 1, end - (text.rfind("\n", 0, end - 1) + 1)
    return problem.line + 1, problem.column + 1


def _locate(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int, int]:
    """1-based line and column of the key named by a pydantic error location."""
    node = root
    best = (1, 1) if root is None else (root.start_mark.line + 1, root.start_mark.column + 1)
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if key_node.value == str(part):
                best = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                node = value_node
                break
        else:
            break
    return best


def effective_config_text(loaded: LoadedConfig) -> str:
    """The effective config as YAML with every secret masked, plus where keys come from."""
    data = loaded.config.model_dump(mode="python", exclude_none=True)
    for name, profile in loaded.config.profiles.items():
        entry = data["profiles"][name]
        if profile.api_key is not None:
            entry["api_key"] = mask_secret(profile.api_key.get_secret_value())
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    lines = [f"# {loaded.path}", text.rstrip("\n"), "", "# API keys:"]
    lines.extend(f"#   {name}: {source}" for name, source in _key_sources(loaded))
    return "\n".join(lines) + "\n"


def _key_sources(loaded: LoadedConfig) -> Iterator[tuple[str, str]]:
    for name, profile in loaded.config.profiles.items():
        if profile.api_key is not None:
            yield name, f"literal in the file ({mask_secret(profile.api_key.get_secret_value())})"
            continue
        if profile.kind == "azure" and profile.auth == "entra":
            yield name, "Microsoft Entra ID (azure-identity), no key"
            continue
        value = os.environ.get(profile.api_key_env)
        state = f"set ({mask_secret(value)})" if value else "not set"
        yield name, f"${profile.api_key_env} {state}"
