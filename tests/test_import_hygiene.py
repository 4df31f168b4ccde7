"""core/ and api/ hold no UI: importing them must not import textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str) -> list[str]:
    path = ROOT / "tui" / package.split(".")[-1]
    names = [package]
    names += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]
    return names


@pytest.mark.parametrize("package", ["tui.core", "tui.api", "tui.emulator", "tui.config"])
def test_importing_does_not_import_textual(package: str) -> None:
    if not (ROOT / "tui" / package.split(".")[-1]).exists() and package != "tui.config":
        pytest.skip(f"{package} does not exist yet")
    modules = _modules(package) if package != "tui.config" else [package]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "", f"{package} imports textual: {result.stdout}"


def test_headless_commands_do_not_import_textual() -> None:
    code = (
        "import sys\n"
        "from tui.cli import main\n"
        "main(['config', 'path'])\n"
        "print('textual' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stderr.strip() == "False"
