"""Config file: first run, errors pinned to LINE:COL, profile selection, masking."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui.config import config_path, load_config, mask_secret


def write_config(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.fixture
def cfg(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = isolated_home / "cfg" / "config.yaml"
    monkeypatch.setenv("TUNEBENCH_CONFIG", str(path))
    return path


def test_default_path_follows_xdg_config_home(isolated_home: Path) -> None:
    assert config_path() == isolated_home / "config" / "tunebench" / "config.yaml"


def test_config_init_creates_private_file_under_xdg(run_cli, isolated_home: Path) -> None:
    result = run_cli("config", "init")
    path = isolated_home / "config" / "tunebench" / "config.yaml"
    assert result.returncode == 0, result
    assert str(path) in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert text.startswith("# tunebench configuration")
    assert "api_key_env: OPENAI_API_KEY" in text
    again = run_cli("config", "init")
    assert again.returncode == 0 and "left unchanged" in again.stdout
    assert path.read_text() == text


def test_first_load_creates_file_with_defaults(cfg: Path) -> None:
    loaded = load_config()
    assert cfg.exists() and stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert loaded.config.default_profile == "openai"
    assert loaded.config.profiles["openai"].api_key_env == "OPENAI_API_KEY"


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        # PyYAML sees these one line late; the report names the line with the mistake.
        ("ui:\n  theme: [unclosed\n", ":2:10:", "invalid YAML"),
        ("ui:\n  theme: 'unclosed\n\n", ":2:10:", "invalid YAML"),
        ("ui:\n  theme: dark\n  colour\ndefaults:\n  epochs: 3\n", ":3:3:", "invalid YAML"),
        ("defaults:\n  epochs: [1,\n", ":2:13:", "invalid YAML"),
        ("ui:\n  theme: x\n  colour: red\n", ":3:3:", "unknown key 'colour' in ui"),
        ("defaults:\n  epochs: many\n", ":2:3:", "defaults.epochs"),
        ("ui:\n  poll_interval: soon\n", ":2:3:", "ui.poll_interval"),
        (
            "profiles:\n  work:\n    kind: bedrock\n",
            ":3:5:",
            "profiles.work.kind",
        ),
        ("default_profile: nope\n", ":1:1:", "default_profile 'nope' is not a profile"),
        ("- a\n- b\n", ":1:1:", "must be a mapping"),
        (
            "default_profile: az\nprofiles:\n  az:\n    kind: azure\n",
            ":3:3:",
            "needs an endpoint",
        ),
    ],
)
def test_bad_config_reports_line_and_column_and_exits_2(
    run_cli, cfg: Path, text: str, where: str, what: str
) -> None:
    write_config(cfg, text)
    result = run_cli("config", "show")
    assert result.returncode == 2, result
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"{cfg}{where}"), line
    assert what in line


def test_broken_config_stops_the_app_too(run_cli, cfg: Path) -> None:
    write_config(cfg, "ui:\n  bell: yes\n")
    result = run_cli()
    assert result.returncode == 2
    assert result.stderr.startswith(f"{cfg}:2:3: unknown key 'bell'")


def test_profile_selection_flag_beats_env_beats_default(
    run_cli, cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(
        cfg,
        "default_profile: a\nprofiles:\n  a: {}\n  b: {}\n  c: {}\n",
    )
    assert run_cli("config", "show").stdout.endswith("# active profile: a\n")
    assert run_cli("config", "show", TUNEBENCH_PROFILE="b").stdout.endswith("profile: b\n")
    result = run_cli("--profile", "c", "config", "show", TUNEBENCH_PROFILE="b")
    assert result.stdout.endswith("# active profile: c\n")
    unknown = run_cli("config", "show", "--profile", "zz")
    assert unknown.returncode == 2
    assert "unknown profile 'zz' (profiles: a, b, c)" in unknown.stderr


def test_show_masks_every_secret(run_cli, cfg: Path) -> None:
    literal = "sk-literal-0123456789abcdefWXYZ"
    from_env = "sk-env-9876543210fedcbaQRST"
    write_config(
        cfg,
        "profiles:\n  openai:\n    api_key: " + literal + "\n  gw:\n    api_key_env: GW_KEY\n",
    )
    result = run_cli("config", "show", GW_KEY=from_env)
    assert result.returncode == 0, result
    everything = result.stdout + result.stderr
    assert literal not in everything and from_env not in everything
    assert "sk-…WXYZ" in result.stdout
    assert "$GW_KEY set (sk-…QRST)" in result.stdout
    assert "literal api_key" in result.stderr  # warned


def test_literal_key_refused_when_others_can_read(run_cli, cfg: Path) -> None:
    write_config(cfg, "profiles:\n  openai:\n    api_key: sk-0123456789abcdefghij\n", 0o644)
    result = run_cli("config", "show")
    assert result.returncode == 2
    assert "readable by other users" in result.stderr
    assert "sk-0123456789abcdefghij" not in result.stderr


def test_mask_secret_never_reveals_short_keys() -> None:
    assert mask_secret("short") == "****"
    assert mask_secret("sk-" + "x" * 20 + "abcd") == "sk-…abcd"


def test_config_path_command_honours_override(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.yaml"
    result = run_cli("config", "path", TUNEBENCH_CONFIG=str(target))
    assert result.stdout.strip() == str(target)
    assert not target.exists()
    assert os.environ.get("TUNEBENCH_CONFIG") is None


def test_readme_config_reference_is_generated_from_the_schema(run_cli) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- config-reference:start -->\n", "<!-- config-reference:end -->"
    block = readme[readme.index(start) + len(start) : readme.index(end)]
    result = run_cli("config", "reference")
    assert result.returncode == 0
    assert block == result.stdout, (
        "README config reference is stale: paste `tunebench config reference`"
    )
    assert "`profiles.NAME.api_key_env`" in block and "`ui.poll_interval`" in block


def test_default_config_text_is_the_defaults() -> None:
    """What `config init` writes, parsed, is exactly the built-in defaults."""
    from tui.config import DEFAULT_CONFIG_TEXT, parse_config
    from tui.config_schema import Config

    loaded = parse_config(DEFAULT_CONFIG_TEXT, Path("config.yaml"))
    assert loaded.config == Config()
    assert loaded.warnings == []


def test_one_default_model_for_validate_and_the_app(run_cli, cfg: Path, tmp_path: Path) -> None:
    """Item 10: validate counts for `defaults.model`, the model the app starts from; the
    old key name `base_model` is still read."""
    from tui.core.models import DEFAULT_MODEL

    data = tmp_path / "data.jsonl"
    line = '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}'
    data.write_text((line + "\n") * 10, encoding="utf-8")
    result = run_cli("validate", str(data), TUNEBENCH_CONFIG=str(cfg))
    assert f"(chat, {DEFAULT_MODEL})" in result.stdout, result
    assert load_config(cfg).config.defaults.model == DEFAULT_MODEL
    write_config(cfg, "defaults:\n  base_model: gpt-4o-mini\n")
    assert load_config(cfg).config.defaults.model == "gpt-4o-mini"
    result = run_cli("validate", str(data), TUNEBENCH_CONFIG=str(cfg))
    assert "(chat, gpt-4o-mini-2024-07-18)" in result.stdout, result
