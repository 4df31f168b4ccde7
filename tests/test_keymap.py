"""The config's `keys:` section rebinds actions by binding id (like posting's keymap)."""

from __future__ import annotations

from pathlib import Path

from tui.app import TunebenchApp
from tui.config import config_path, load_config
from tui.keymap import binding_ids
from tui.screens.dataset import DatasetScreen


def app_with_keys(keys: str) -> TunebenchApp:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"keys:\n{keys}", encoding="utf-8")
    path.chmod(0o600)
    return TunebenchApp(load_config(), profile_name="openai")


async def test_a_rebound_key_runs_the_action_and_unknown_ids_are_reported(
    isolated_home: Path,
) -> None:
    app = app_with_keys("  dataset.new: ctrl+e\n  dataset.nope: ctrl+k\n")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        for _ in range(200):
            if screen.doc is not None:
                break
            await pilot.pause(0.02)
        assert screen.doc is not None and len(screen.doc) == 1
        await pilot.press("ctrl+e")
        assert len(screen.doc) == 2
        warnings = [n.message for n in app._notifications]
        assert any("unknown binding id(s) dataset.nope" in w for w in warnings)


def test_every_documented_binding_id_exists() -> None:
    """The README's list of ids is the app's."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- binding-ids:start -->")
    end = readme.index("<!-- binding-ids:end -->")
    documented = {word.strip("`") for word in readme[start:end].split() if word.startswith("`")}
    assert documented == set(binding_ids())
