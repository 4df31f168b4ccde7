"""One line of figures: examples, errors, warnings, tokens, epochs and cost for a model."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.core.models import BaseModel
from tui.core.workspace import Stats


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def stats_text(
    stats: Stats | None,
    model: BaseModel,
    *,
    checking: bool = False,
    state: str = "",
    progress: tuple[int, float] | None = None,
    local: bool = False,
) -> str:
    """The stats line: the workspace's figures (what `validate` says of the saved bytes).

    progress: (lines, share scanned) while a big file's first scan runs: its figures are
    not shown until they are whole, so the line never shows a wrong number.
    local: the profile is a local trainer, which has no price and counts with its own
    model's tokenizer, so the count here is approximate and no OpenAI model is named.
    """
    named = "local trainer: no price" if local else model.aliases[0] if model.aliases else None
    named = named or model.name
    if stats is None:
        return f"Loading… · {named}"
    if progress is not None:
        lines, share = progress
        parts = [_plural(lines, "line"), f"counting… {int(share * 100)}%"]
        parts.append(named)
        if state:
            parts.append(state)
        return " · ".join(parts)
    n_errors, n_warnings = stats.errors, stats.warnings
    parts = [_plural(stats.examples, "example")]
    errors = f"[b red]{_plural(n_errors, 'error')}[/]" if n_errors else "0 errors"
    warnings = f"[b yellow]{_plural(n_warnings, 'warning')}[/]" if n_warnings else "0 warnings"
    parts += [errors, warnings]
    if checking:
        parts.append("checking…")
    if stats.tokens is not None and stats.epochs is not None:
        parts.append(f"≈{stats.tokens:,} tokens" if local else f"{stats.tokens:,} tokens")
        cost = f" ≈ ${stats.cost_usd:,.2f}" if stats.cost_usd is not None and not local else ""
        parts.append(f"{_plural(stats.epochs, 'epoch')}{cost}")
    else:
        parts.append("counting tokens…")
    parts.append(named)
    if state:
        parts.append(state)
    return " · ".join(parts)


class StatsLine(Static):
    """One line, two when narrow; a screen layout only when that changes."""

    DEFAULT_CSS = """
    StatsLine { height: auto; max-height: 2; padding: 0 1; background: $panel; }
    """

    _rows = 0
    _markup = ""

    def show(self, markup: str) -> None:
        self._markup = markup
        if not self.size.width:
            self._rows = 0  # not laid out yet: on_resize decides
            self.update(markup)
            return
        rows = 1 if Text.from_markup(markup).cell_len <= self.size.width - 2 else 2
        self.update(markup, layout=rows != self._rows)
        self._rows = rows

    def on_resize(self) -> None:
        self._rows = 0
        self.show(self._markup)
