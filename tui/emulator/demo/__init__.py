"""The bundled example dataset for `tunebench --demo`: the seed's Polish grammar task."""

from __future__ import annotations

from pathlib import Path

DEMO_SYSTEM_PROMPT = "Popraw gramatykę zdania."


def demo_dataset_path() -> Path:
    """Pairs text (`words; sentence`, one a line) with a `# system:` line; ships in the wheel."""
    return Path(__file__).with_name("polish_grammar.txt")
