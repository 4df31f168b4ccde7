"""The YAML config file: where it lives, what the app reads from it at start, and loading.

The file is the user's; the schema is the code's (`tui.config_schema`, pydantic). It is
created on first run with commented defaults (mode 0600 in a 0700 directory) and read with
`yaml.safe_load`. Any problem becomes one line `PATH:LINE:COL: what is wrong` (a UsageError,
exit 2). API keys are read from environment variables named here; a literal key in the file
is accepted with a warning, and refused when the file is readable by group or others.

Start-up speed: a file whose every value is plainly valid (known keys, values of the exact
types and ranges the schema accepts) is read here without pydantic (importing it and building
the models costs about 100 ms of CPU); the full check of such a file runs when the rest of
the config is first used, and cannot fail then. Any other file gets the full check at once,
so every error is reported before the app starts, with the same message as ever.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.core.atomic import write_atomic
from tui.core.models import DEFAULT_MODEL
from tui.errors import UsageError

if TYPE_CHECKING:
    from tui.config_schema import Config, Profile

CONFIG_ENV = "TUNEBENCH_CONFIG"
PROFILE_ENV = "TUNEBENCH_PROFILE"
DEMO_PROFILE = "demo"


def is_env_name(value: str) -> bool:
    """A valid environment variable name (for api_key_env, arm_token_env)."""
    return bool(value) and all(c.isalnum() or c == "_" for c in value) and not value[0].isdigit()


def is_separator(value: str) -> bool:
    """A usable pairs separator: something visible, on one line."""
    return bool(value.strip()) and "\n" not in value


DEFAULT_CONFIG_TEXT = """\
# tunebench configuration. Edit freely: unknown keys and wrong types are reported with
# their line and column. API keys are NOT stored here: each profile names the environment
# variable that holds its key (api_key_env).

# The profile used when neither --profile nor TUNEBENCH_PROFILE names one.
default_profile: openai

profiles:
  openai:
    kind: openai                  # openai | azure | emulator | local
    api_key_env: OPENAI_API_KEY   # the SDK's own OPENAI_* variables keep working
    # base_url: https://my-gateway.example/v1   # a LiteLLM proxy or other gateway
    # organization: org-...
    # project: proj_...
  # azure:
  #   kind: azure
  #   endpoint: https://NAME.openai.azure.com
  #   api_version: 2025-04-01-preview   # or 2024-10-21, or v1 (ENDPOINT/openai/v1/)
  #   api_key_env: AZURE_OPENAI_API_KEY  # or auth: entra (pip install 'tunebench[azure]')
  #   subscription_id: ...               # for tunebench deploy / deployments
  #   resource_group: ...
  #   arm_token_env: AZURE_ARM_TOKEN     # az account get-access-token; or auth: entra
  # local:
  #   kind: emulator              # `tunebench emulator` prints its base URL
  #   base_url: http://127.0.0.1:8321/v1
  #   api_key_env: TUNEBENCH_EMULATOR_KEY
  # gpu:
  #   kind: local                 # `tunebench serve` (over `ssh -L 8321:127.0.0.1:8321 gpu-box`)
  #   base_url: http://127.0.0.1:8321/v1

dataset:
  system_prompt: ""               # default system prompt for examples without one
  separator: ";"                  # input/output separator in pairs text files

defaults:
  model: gpt-4.1-mini-2025-04-14  # validate, the app, the launch form and jobs create
  epochs: auto                    # auto or 1..50

# keys:                          # other keys for actions, by binding id (README, Keys)
#   dataset.new: ctrl+e

ui:
  theme: textual-dark
  poll_interval: 2.0              # seconds between job polls while running
  bell_on_job_end: false
"""


def config_path() -> Path:
    """The config file path: $TUNEBENCH_CONFIG, else the platform's user config dir."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_config_path("tunebench") / "config.yaml"


def write_private(path: Path, text: str) -> None:
    """Write text atomically with mode 0600, creating the directory with mode 0700."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    write_atomic(path, text.encode("utf-8"), mode=0o600)


def init_config(path: Path | None = None) -> tuple[Path, bool]:
    """Create the config file with commented defaults. Returns (path, created)."""
    path = path or config_path()
    if path.exists():
        return path, False
    write_private(path, DEFAULT_CONFIG_TEXT)
    return path, True


@dataclass(frozen=True)
class Startup:
    """What the app needs before its first screen, read without pydantic: equal to the same
    fields of the checked Config (a property test keeps the two readings equal)."""

    default_profile: str = "openai"
    profiles: tuple[str, ...] = ("openai",)
    literal_keys: tuple[str, ...] = ()  # profiles with an api_key in the file
    local_profiles: tuple[str, ...] = ()  # profiles of kind local (no price, own tokenizer)
    system_prompt: str = ""
    separator: str = ";"
    model: str = DEFAULT_MODEL
    theme: str = "textual-dark"
    keys: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Config) -> Startup:
        return cls(
            default_profile=config.default_profile,
            profiles=tuple(config.profiles),
            literal_keys=tuple(n for n, p in config.profiles.items() if p.api_key is not None),
            local_profiles=tuple(n for n, p in config.profiles.items() if p.kind == "local"),
            system_prompt=config.dataset.system_prompt,
            separator=config.dataset.separator,
            model=config.defaults.model,
            theme=config.ui.theme,
            keys=dict(config.keys),
        )


_MISSING: Any = object()
_TOP_KEYS = frozenset({"default_profile", "profiles", "dataset", "defaults", "ui", "keys"})
_KINDS = frozenset({"openai", "azure", "emulator", "local"})
_OPTIONAL_TEXT = frozenset(
    {
        "base_url",
        "api_key",
        "organization",
        "project",
        "endpoint",
        "api_version",
        "subscription_id",
        "resource_group",
        "account",
    }
)
_PROFILE_KEYS = _OPTIONAL_TEXT | {"kind", "api_key_env", "auth", "arm_url", "arm_token_env"}


def startup_of(data: object) -> Startup | None:
    """The Startup of parsed YAML if the schema certainly accepts it as it is, else None
    (then the full check decides, and words any error). Only exact types are taken: a value
    pydantic would convert (a number as text, say) is left to it."""
    if data is None:
        data = {}
    if type(data) is not dict or not data.keys() <= _TOP_KEYS:
        return None
    default_profile = data.get("default_profile", "openai")
    profiles = data.get("profiles", _MISSING)
    if profiles is _MISSING:
        profiles = {"openai": {}}
    if type(default_profile) is not str or type(profiles) is not dict:
        return None
    if default_profile not in profiles or not all(
        type(name) is str and _plain_profile(p) for name, p in profiles.items()
    ):
        return None
    dataset = _section(data, "dataset", {"system_prompt": "", "separator": ";"})
    defaults = _section(data, "defaults", {"model": DEFAULT_MODEL, "epochs": "auto"})
    ui = _section(data, "ui", {"theme": "textual-dark", "poll_interval": 2.0, "bell": False})
    keys = data.get("keys", {})
    if dataset is None or defaults is None or ui is None or type(keys) is not dict:
        return None
    if "base_model" in defaults:  # the old name of defaults.model
        defaults["model"] = defaults.pop("base_model")
    epochs, poll = defaults["epochs"], ui["poll_interval"]
    if not (
        type(dataset["system_prompt"]) is str
        and type(dataset["separator"]) is str
        and is_separator(dataset["separator"])
        and type(defaults["model"]) is str
        and (epochs == "auto" or (type(epochs) is int and 1 <= epochs <= 50))
        and type(ui["theme"]) is str
        and type(poll) in (int, float)
        and 0 < poll <= 600
        and type(ui["bell"]) is bool
        and all(type(k) is str and type(v) is str for k, v in keys.items())
    ):
        return None
    return Startup(
        default_profile=default_profile,
        profiles=tuple(profiles),
        literal_keys=tuple(n for n, p in profiles.items() if p.get("api_key") is not None),
        local_profiles=tuple(n for n, p in profiles.items() if p.get("kind") == "local"),
        system_prompt=dataset["system_prompt"],
        separator=dataset["separator"],
        model=defaults["model"],
        theme=ui["theme"],
        keys=dict(keys),
    )


_SECTION_KEYS = {
    "dataset": {"system_prompt": "system_prompt", "separator": "separator"},
    "defaults": {"model": "model", "base_model": "base_model", "epochs": "epochs"},
    "ui": {"theme": "theme", "poll_interval": "poll_interval", "bell_on_job_end": "bell"},
}


def _section(data: dict[Any, Any], name: str, defaults: dict[str, Any]) -> dict[str, Any] | None:
    """A section's values over its defaults, if it is a mapping of known keys (else None)."""
    value = data.get(name, {})
    keys = _SECTION_KEYS[name]
    if type(value) is not dict or not value.keys() <= keys.keys():
        return None
    if name == "defaults" and "model" in value and "base_model" in value:
        return None  # which one wins is the schema's business
    return {**defaults, **{keys[k]: v for k, v in value.items()}}


def _plain_profile(profile: object) -> bool:
    if type(profile) is not dict or not profile.keys() <= _PROFILE_KEYS:
        return False
    for key, value in profile.items():
        if key in _OPTIONAL_TEXT:
            ok = value is None or type(value) is str
        elif key == "kind":
            ok = type(value) is str and value in _KINDS
        elif key == "auth":
            ok = type(value) is str and value in ("key", "entra")
        elif key == "arm_url":
            ok = type(value) is str
        else:  # api_key_env, arm_token_env
            ok = (value is None and key == "arm_token_env") or (
                type(value) is str and is_env_name(value)
            )
        if not ok:
            return False
    kind = profile.get("kind", "openai")
    if kind == "azure" and not (profile.get("endpoint") or profile.get("base_url")):
        return False
    return not (kind == "local" and not profile.get("base_url"))


@dataclass
class LoadedConfig:
    """The config plus where it came from and what the user should be told.

    `startup` is there at once; `config`, the full typed config, is checked on first use
    (from `text`, the file's; None: the defaults).
    """

    path: Path
    startup: Startup = field(default_factory=Startup)
    warnings: list[str] = field(default_factory=list)
    key_warnings: dict[str, str] = field(default_factory=dict)
    """Per profile: the warning about its literal key, said only where that profile is used."""
    text: str | None = field(default=None, repr=False)
    checked: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self.checked is None:
            from tui.config_schema import Config, check_config

            self.checked = Config() if self.text is None else check_config(self.text, self.path)
        return self.checked

    def warnings_for(self, profile: str | None) -> list[str]:
        """What to tell the user once, at the start of a run that uses `profile`."""
        extra = self.key_warnings.get(profile) if profile is not None else None
        return [*self.warnings, *([extra] if extra else [])]

    def profile_name(self, requested: str | None = None) -> str:
        """--profile wins over TUNEBENCH_PROFILE, which wins over default_profile."""
        return requested or os.environ.get(PROFILE_ENV) or self.startup.default_profile

    def checked_profile_name(self, requested: str | None = None) -> str:
        """profile_name, refused in one line if the config has no such profile."""
        name = self.profile_name(requested)
        names = self.startup.profiles if self.checked is None else tuple(self.checked.profiles)
        if name in names:
            return name
        known = ", ".join(sorted(names)) or "none"
        source = (
            "--profile"
            if requested
            else PROFILE_ENV
            if os.environ.get(PROFILE_ENV)
            else f"{self.path}: default_profile"
        )
        raise UsageError(f"{source}: unknown profile {name!r} (profiles: {known})")

    def is_local(self, name: str) -> bool:
        """Profile `name` is a local trainer (kind local), without checking the whole config
        when it has not been yet (the first screen asks)."""
        if self.checked is None:
            return name in self.startup.local_profiles
        profile = self.checked.profiles.get(name)
        return profile is not None and profile.kind == "local"

    def profile(self, requested: str | None = None) -> tuple[str, Profile]:
        name = self.checked_profile_name(requested)
        return name, self.config.profiles[name]


def load_config(path: Path | None = None, *, create: bool = True) -> LoadedConfig:
    """Load the config, creating it with defaults on first run; every error is raised here."""
    path = path or config_path()
    if not path.exists():
        if not create:
            return LoadedConfig(path)
        init_config(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    loaded = _read_plain(text, path) or parse_config(text, path)
    _check_literal_keys(loaded)
    return loaded


def _read_plain(text: str, path: Path) -> LoadedConfig | None:
    """The config of a plainly valid file, its full check left for first use; else None."""
    if text == DEFAULT_CONFIG_TEXT:  # as the first run wrote it: its values are the defaults
        return LoadedConfig(path, Startup(), text=text)
    import yaml  # (importing it is about 15 ms of the start)

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None  # the full check says where
    startup = startup_of(data)
    return None if startup is None else LoadedConfig(path, startup, text=text)


def parse_config(text: str, path: Path) -> LoadedConfig:
    """Parse YAML text into a fully checked Config; problems carry PATH:LINE:COL."""
    from tui.config_schema import check_config

    config = check_config(text, path)
    return LoadedConfig(path, Startup.of(config), text=text, checked=config)


def _check_literal_keys(loaded: LoadedConfig) -> None:
    with_keys = loaded.startup.literal_keys
    if not with_keys:
        return
    names = ", ".join(with_keys)
    mode = loaded.path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        raise UsageError(
            f"{loaded.path}: holds a literal api_key (profile {names}) but is readable by "
            f"other users; run `chmod 600 {loaded.path}` or use api_key_env instead"
        )
    for name in with_keys:
        loaded.key_warnings[name] = (
            f"{loaded.path}: profile {name} has a literal api_key; prefer api_key_env "
            "(keys in files end up in backups and screenshots)"
        )


def default_model() -> str:
    """The config's `defaults.model` for headless commands (the file is never created)."""
    return load_config(create=False).startup.model


def dataset_defaults() -> Startup:
    """The config's dataset settings (`separator`, `system_prompt`) for headless commands;
    the file is read if it exists and never created by them."""
    return load_config(create=False).startup


def mask_secret(secret: str) -> str:
    """Enough of a key to tell two apart, never enough to use it."""
    if len(secret) < 16:
        return "****"
    return f"{secret[:3]}…{secret[-4:]}"
