"""The selected example exactly as it will be exported, each problem's span highlighted."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.core.editing import Entry
from tui.core.problems import Finding
from tui.core.spans import finding_span, json_spans

# A very long line is shown cut: rendering 10 MB of text per keystroke would freeze the UI.
MAX_PREVIEW_CHARS = 20_000


class JsonlPreview(Static):
    """Renders one entry: `line N`, the JSONL text, then its problems."""

    DEFAULT_CSS = """
    JsonlPreview { height: auto; padding: 0 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.plain_text = ""
        self._lines = -1

    def _render_text(self, text: Text) -> None:
        """Update without a screen-wide layout unless the number of lines changed."""
        width = max(1, self.content_region.width or self.size.width or 80)
        lines = len(text.wrap(self.app.console, width))
        self.update(text, layout=lines != self._lines)
        self._lines = lines

    def show(self, entry: Entry | None, line_number: int, more: tuple[Finding, ...] = ()) -> None:
        """Show `entry`, which starts at line `line_number` of the file; `more`: findings
        of the whole file about it (it repeats an earlier example)."""
        if entry is None:
            self.plain_text = ""
            self._render_text(Text("No example selected. Ctrl+N adds one.", style="dim"))
            return
        line = entry.text.decode("utf-8", "replace")
        shown = line[:MAX_PREVIEW_CHARS]
        text = Text(f"line {line_number}", style="bold")
        if entry.tokens is not None:
            text.append(f" · {entry.tokens:,} tokens", style="dim")
        text.append("\n")
        body = Text(shown)
        spans = json_spans(entry.parse(), line) if len(line) <= MAX_PREVIEW_CHARS else {}
        for finding in entry.findings:
            span = finding_span(finding.message, spans)
            if span is not None:
                colour = "on dark_red" if finding.is_error else "on grey30"
                body.stylize(f"bold {colour}", *span)
        text.append_text(body)
        if len(line) > MAX_PREVIEW_CHARS:
            text.append(f"… ({len(line) - MAX_PREVIEW_CHARS:,} more characters)", style="dim")
        for finding in entry.findings + more:
            style = "bold red" if finding.is_error else "bold yellow"
            text.append(f"\n{'✗' if finding.is_error else '!'} {finding.code}", style=style)
            text.append(f": {finding.message}")
        if not entry.findings and not more and entry.kind == "example":
            text.append("\n✓ no problems", style="green")
        self.plain_text = text.plain
        self._render_text(text)
