"""Start the TUI from parsed command-line arguments.

Kept apart from cli.py so `tunebench config ...` and the other headless commands never
import textual.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.errors import EXIT_FAILED, UsageError, describe


def run_app(args: argparse.Namespace) -> int:
    from tui.config import load_config

    loaded = load_config()
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    profile_name, _profile = loaded.profile(args.profile)
    dataset: Path | None = None
    if args.path:
        dataset = Path(args.path).expanduser()
        if not dataset.exists():
            raise UsageError(f"{args.path}: no such file")
        if dataset.is_dir():
            raise UsageError(f"{args.path}: is a directory, not a dataset file")

    from tui.app import TunebenchApp

    app = TunebenchApp(
        loaded,
        profile_name=profile_name,
        dataset_path=dataset,
        debug=args.debug,
        startup_warnings=loaded.warnings,
    )
    app.run()
    if app.crash is not None and not args.debug:
        print(describe(app.crash), file=sys.stderr)
        return EXIT_FAILED
    return app.return_code or 0
