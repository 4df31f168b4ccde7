"""Start the TUI from parsed command-line arguments.

Kept apart from cli.py so `tunebench config ...` and the other headless commands never
import textual.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path

from tui.config import DEMO_PROFILE, LoadedConfig, config_path, load_config
from tui.errors import EXIT_FAILED, UsageError, describe

LOCAL_PROFILE = "local-serve"
DEMO_SPEED = 5.0
"""The demo's emulator runs five times faster than real time: a job takes about 20 s.
$TUNEBENCH_DEMO_SPEED changes it (the terminal tests use a fast one)."""


def run_app(args: argparse.Namespace) -> int:
    # No garbage collection while the app starts: its passes over the objects the imports
    # and the first screen make find next to nothing and cost tens of ms of CPU. The app
    # turns it on again after its first frame.
    gc.disable()
    try:
        return _run_app(args)
    finally:
        gc.enable()


def _run_app(args: argparse.Namespace) -> int:
    if args.demo and args.profile:
        raise UsageError("--demo uses its own offline profile; drop --profile")
    loaded = demo_config() if args.demo else load_config()
    dataset = _dataset_argument(args.path)
    with ExitStack() as stack:
        if args.demo and args.local:
            raise UsageError("--demo and --local each start their own server; choose one")
        if args.demo:
            profile_name = _start_demo(loaded, stack)
            dataset = dataset or demo_dataset_copy()
        elif args.local:
            if args.profile:
                raise UsageError("--local starts its own trainer and profile; drop --profile")
            profile_name = _start_local(loaded, stack, args.local)
        else:
            profile_name = loaded.checked_profile_name(args.profile)

        from tui.app import TunebenchApp

        app = TunebenchApp(
            loaded,
            profile_name=profile_name,
            dataset_path=dataset,
            debug=args.debug,
            startup_warnings=loaded.warnings_for(profile_name),  # shown once, in the app
        )
        try:
            app.run()
        finally:
            app.workspace.release()  # the dataset's lock, and its recovery if not needed
    if app.crash is not None and not args.debug:
        print(describe(app.crash), file=sys.stderr)
        return EXIT_FAILED
    return app.return_code or 0


def demo_config() -> LoadedConfig:
    """The demo's settings: the defaults, whatever the user's config file says. A broken
    file is mentioned in one line, and the demo starts anyway."""
    path = config_path()
    try:
        load_config(path, create=False)
    except UsageError as exc:
        print(f"warning: {exc}; the demo does not use it", file=sys.stderr)
    return LoadedConfig(path)


def _dataset_argument(path: str | None) -> Path | None:
    if not path:
        return None
    dataset = Path(path).expanduser()
    if not dataset.exists():
        raise UsageError(f"{path}: no such file")
    if dataset.is_dir():
        raise UsageError(f"{path}: is a directory, not a dataset file")
    return dataset


def _start_demo(loaded: LoadedConfig, stack: ExitStack) -> str:
    """Start the emulator in a background thread and add the in-memory `demo` profile.

    The demo never reads the user's keys: its profile carries a fixed key that only the
    emulator accepts, and it is never written to the config file.
    """
    from pydantic import SecretStr

    from tui.config_schema import Profile
    from tui.emulator import EmulatorThread

    emulator = stack.enter_context(EmulatorThread(seed=0, speed=_demo_speed()))
    loaded.config.profiles[DEMO_PROFILE] = Profile(
        kind="emulator", base_url=emulator.base_url, api_key=SecretStr("demo")
    )
    return DEMO_PROFILE


def _start_local(loaded: LoadedConfig, stack: ExitStack, model: str) -> str:
    """Start `tunebench serve --model MODEL` in a subprocess and add its in-memory profile."""
    import platformdirs

    from tui.config_schema import Profile
    from tui.serve.embedded import EmbeddedServe

    log = platformdirs.user_state_path("tunebench") / "local-serve.log"
    print(f"starting tunebench serve --model {model} (log: {log})…", file=sys.stderr)
    serve = stack.enter_context(EmbeddedServe(model, log=log))
    loaded.config.profiles[LOCAL_PROFILE] = Profile(kind="local", base_url=serve.base_url)
    return LOCAL_PROFILE


def _demo_speed() -> float:
    raw = os.environ.get("TUNEBENCH_DEMO_SPEED")
    if not raw:
        return DEMO_SPEED
    try:
        speed = float(raw)
    except ValueError:
        speed = 0.0
    if not 0 < speed <= 10_000:
        raise UsageError(f"TUNEBENCH_DEMO_SPEED={raw!r}: expected a number above 0")
    return speed


def demo_dataset_copy() -> Path:
    """The bundled demo pairs, copied to the user data dir so the demo can edit and save."""
    import platformdirs

    from tui.emulator import demo_dataset_path

    target = platformdirs.user_data_path("tunebench") / "demo" / "polish_grammar.txt"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo_dataset_path(), target)
    return target
