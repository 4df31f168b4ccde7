"""Headless subcommands, one module each (see tui.cli.COMMANDS)."""
