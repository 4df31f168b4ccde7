"""Shared by the contract tests: a config pointing at the stub, the CLI run in-process, and
hypothesis settings that keep the suite deterministic."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings

from tui.cli import main

CONTRACT = settings(
    derandomize=True,  # the same bodies on every run: a failure is reproducible
    database=None,
    max_examples=15,  # each example is a whole server's answers: drawing them takes a while
    phases=[Phase.explicit, Phase.generate],  # shrinking these bodies takes minutes
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the isolated home is the same for each example
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,  # the chat schemas' anyOf branches reject many draws
    ],
)


def point_config_at(home: Path, base_url: str) -> None:
    """A private config whose default profile `stub` is the stub server (key in $STUB_KEY)."""
    path = home / "config" / "tunebench" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "default_profile: stub\n"
        "profiles:\n"
        f"  stub: {{kind: openai, base_url: '{base_url}', api_key_env: STUB_KEY}}\n"
        "ui:\n  poll_interval: 0.01\n",
        encoding="utf-8",
    )
    path.chmod(0o600)


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_main(*args: str) -> Ran:
    """`tunebench ARGS` in this process (the same code path, without a process per example)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return Ran(code, out.getvalue(), err.getvalue())
