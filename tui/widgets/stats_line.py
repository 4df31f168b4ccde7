"""One line of figures: examples, errors, warnings, tokens, epochs and cost for a model."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.core.editing import Document
from tui.core.estimate import default_epochs
from tui.core.models import BaseModel


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def stats_text(doc: Document | None, model: BaseModel, *, state: str = "") -> str:
    if doc is None:
        return f"Loading… · {model.name}"
    c = doc.counts
    whole_file = doc.dataset_findings()
    n_errors = c.errors + sum(1 for _, f in whole_file if f[1] == "error")
    n_warnings = c.warnings + sum(1 for _, f in whole_file if f[1] == "warning")
    parts = [_plural(c.examples, "example")]
    errors = f"[b red]{_plural(n_errors, 'error')}[/]" if n_errors else "0 errors"
    warnings = f"[b yellow]{_plural(n_warnings, 'warning')}[/]" if n_warnings else "0 warnings"
    parts += [errors, warnings]
    if not doc.checked:
        parts.append("checking…")
    if doc.tokens_ready:
        epochs = default_epochs(doc.tokens_known)
        tokens = doc.tokens_total
        parts.append(f"{tokens:,} tokens")
        price = model.price_per_1m_training_tokens
        cost = f" ≈ ${epochs * tokens / 1e6 * price:,.2f}" if price is not None else ""
        parts.append(f"{_plural(epochs, 'epoch')}{cost}")
    else:
        parts.append("counting tokens…")
    parts.append(model.aliases[0] if model.aliases else model.name)
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
