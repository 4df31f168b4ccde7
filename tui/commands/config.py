"""`tunebench config path|show|init`: where the config is, what is in effect, create it."""

from __future__ import annotations

import argparse
import sys

HELP = (
    "show where the config file is, print the effective config (secrets masked), create it, "
    "or print its reference"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("path", help="print the config file path")
    sub.add_parser("show", help="print the effective config with every secret masked")
    sub.add_parser("reference", help="print the config reference (Markdown, from the schema)")
    init = sub.add_parser("init", help="create the config file with commented defaults")
    init.add_argument(
        "--force", action="store_true", help="replace an existing file (kept as config.yaml.bak)"
    )


def run(args: argparse.Namespace) -> int:
    from tui import config, config_schema

    if args.action == "path":
        print(config.config_path())
        return 0
    if args.action == "reference":
        sys.stdout.write(config_schema.reference_markdown())
        return 0
    if args.action == "init":
        path = config.config_path()
        if path.exists() and args.force:
            backup = path.with_name(path.name + ".bak")
            config.write_private(backup, path.read_text(encoding="utf-8", errors="replace"))
            path.unlink()
            print(f"kept the old file as {backup}", file=sys.stderr)
        path, created = config.init_config(path)
        print(f"created {path}" if created else f"{path} exists; left unchanged (--force replaces)")
        return 0
    loaded = config.load_config(create=False)
    # the file's every profile is shown, so every literal key is mentioned
    for warning in [*loaded.warnings, *loaded.key_warnings.values()]:
        print(f"warning: {warning}", file=sys.stderr)
    name, _profile = loaded.profile(args.profile)
    sys.stdout.write(config_schema.effective_config_text(loaded))
    print(f"# active profile: {name}")
    return 0
