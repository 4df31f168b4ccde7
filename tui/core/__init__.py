"""Pure logic shared by the CLI and the screens. Never imports textual."""
