"""Compare: the same prompt to two or three models, side by side, streaming at once."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Label

from tui.api.chat import Reply
from tui.widgets.chat_log import FLUSH_HZ, StreamText
from tui.widgets.model_picker import ModelPicker, tail

MAX_MODELS = 3


def reply_stats(reply: Reply) -> str:
    """`first 120 ms · 1.30 s · 19+6 tok` (short: it sits in a pane's border)."""
    parts = []
    if reply.first_token_s is not None:
        parts.append(f"first {reply.first_token_s * 1000:.0f} ms")
    parts.append(f"{reply.total_s:.2f} s")
    if reply.usage is not None:
        parts.append(f"{reply.usage.prompt_tokens}+{reply.usage.completion_tokens} tok")
    return " · ".join(parts)


class ComparePane(VerticalScroll, can_focus=False):
    """One model's reply; the model in the border title, timings and usage below."""

    DEFAULT_CSS = """
    ComparePane {
        width: 1fr; height: 1fr; padding: 0 1;
        border: round $panel-lighten-2;
        border-title-color: $text-accent;
        border-subtitle-color: $text-muted;
    }
    ComparePane.-error { border: round $error; }
    ComparePane.-partial { border: round $warning; }
    """

    model = ""

    def compose(self) -> ComposeResult:
        yield StreamText()

    def on_resize(self) -> None:
        self.border_title = tail(self.model, max(8, self.size.width - 8))

    @property
    def body(self) -> StreamText:
        return self.query_one(StreamText)

    def start(self, model: str) -> None:
        self.model = model
        self.on_resize()
        self.border_subtitle = "waiting…"
        self.remove_class("-error", "-partial")
        self.body.set_text("")

    def finish(self, reply: Reply) -> None:
        if reply.error and not reply.cut:
            self.body.set_text("", note=reply.error)
            self.border_subtitle = "failed"
            self.add_class("-error")
            return
        self.body.set_text(reply.text, note=f"[{reply.error}]" if reply.cut else "")
        self.border_subtitle = reply_stats(reply)
        self.set_class(reply.cut, "-partial")

    def stop(self) -> None:
        self.body.mark("[stopped]")
        self.border_subtitle = "stopped"
        self.add_class("-partial")


class CompareView(Vertical):
    """Pickers for the second and third model, then one pane per model."""

    DEFAULT_CSS = """
    CompareView { height: 1fr; }
    CompareView > #compare-pickers { height: 1; margin: 0 1; }
    CompareView > #compare-pickers > Label { width: auto; padding: 0 1 0 0; color: $text-muted; }
    CompareView > #compare-panes { height: 1fr; }
    CompareView.-narrow > #compare-panes { layout: vertical; }
    """

    busy = False
    """A compare is streaming."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="compare-pickers"):
            yield Label("vs")
            yield ModelPicker(id="compare-2", prompt="second model")
            yield Label(" and")
            yield ModelPicker(id="compare-3", prompt="(third: none)", blank=True)
        with Horizontal(id="compare-panes"):
            for index in range(MAX_MODELS):
                yield ComparePane(id=f"pane-{index + 1}")

    def on_mount(self) -> None:
        self._timer: Timer = self.set_interval(1 / FLUSH_HZ, self.flush, pause=True)
        self.border_title = "compare"
        for pane in self.panes[1:]:
            pane.display = False

    def on_resize(self) -> None:
        self.set_class(self.size.width < 100 and self._shown() > 2, "-narrow")

    @property
    def pickers(self) -> list[ModelPicker]:
        return [
            self.query_one("#compare-2", ModelPicker),
            self.query_one("#compare-3", ModelPicker),
        ]

    @property
    def panes(self) -> list[ComparePane]:
        return list(self.query(ComparePane))

    def extra_models(self) -> list[str]:
        return [m for m in (p.model for p in self.pickers) if m]

    def _shown(self) -> int:
        return sum(1 for pane in self.panes if pane.display)

    def preview(self, models: list[str]) -> None:
        """Show one empty pane per model, titled, before anything is sent."""
        if self.busy:
            return  # a compare is streaming: leave its panes alone
        for index, pane in enumerate(self.panes):
            pane.display = index < len(models)
            if index < len(models):
                pane.model = models[index]
                pane.on_resize()
                pane.border_subtitle = ""
                pane.remove_class("-error", "-partial")
                pane.body.set_text("", note="the reply streams here")
        self.on_resize()

    def start(self, models: list[str]) -> None:
        for index, pane in enumerate(self.panes):
            pane.display = index < len(models)
            if index < len(models):
                pane.start(models[index])
        self.on_resize()
        self.busy = True
        self._timer.resume()

    def append(self, index: int, text: str) -> None:
        pane = self.panes[index]
        if pane.body.text == "":
            pane.border_subtitle = "streaming…"
        pane.body.append(text)

    def flush(self) -> None:
        for pane in self.panes:
            pane.body.flush()

    def finish(self, replies: list[Reply]) -> None:
        self._timer.pause()
        self.busy = False
        for pane, reply in zip(self.panes, replies, strict=False):
            pane.finish(reply)

    def stop(self) -> None:
        self._timer.pause()
        self.busy = False
        for pane in self.panes:
            if pane.display:
                pane.stop()
