"""The import rules in pyproject.toml ([tool.importlinter]) hold: tui.core imports no UI, API
client or config; the headless parts import no textual; only the emulator command, the serve
trainer and the demo launcher import the emulator. And headless commands stay headless at run
time (the app's modules are imported lazily)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


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
