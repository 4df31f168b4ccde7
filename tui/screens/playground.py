"""The Playground: talk to tuned models and checkpoints with the training system prompt.

All API work runs in async workers on the app's loop (`tui.api.chat`); the UI only buffers
deltas and renders on a timer. Stopping cancels the worker, which closes the HTTP stream.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import ContentSwitcher, Input, Label, Select, Static, TextArea

from tui.api import chat, last_choice
from tui.api.chat import Message
from tui.api.jobs import is_transient
from tui.appref import tunebench_app
from tui.errors import describe
from tui.messages import WorkspaceChanged
from tui.screens.base import MainScreen
from tui.widgets.batch_check import BatchCheckScreen
from tui.widgets.binding_commands import ScreenBindingCommands
from tui.widgets.chat_log import ChatLog, ChatMessage
from tui.widgets.compare_view import CompareView, reply_stats
from tui.widgets.model_picker import ModelPicker, default_partner
from tui.widgets.save_example import SaveExampleScreen

if TYPE_CHECKING:
    from openai import AsyncOpenAI

MODEL_LIST_WAITS = (2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 60.0, 60.0)
"""Between attempts to fetch the model list while offline: about four minutes, then stop."""

EMPTY_CHAT = (
    "Pick a model (F2), check the system prompt — it is the one the dataset trains with, "
    "so a tuned model answers the trained way — then press Enter and write a message."
)


class PlaygroundScreen(MainScreen):
    TITLE = "Playground"
    DEFAULT_CSS = """
    PlaygroundScreen #pg-settings { height: 1; margin: 1 1 0 1; }
    PlaygroundScreen #pg-settings Label, PlaygroundScreen #pg-system-row Label {
        width: auto; padding: 0 1 0 0; color: $text-muted;
    }
    PlaygroundScreen #pg-system-row { height: auto; margin: 1 1 0 1; }
    PlaygroundScreen #pg-system-row Input { width: 8; }
    PlaygroundScreen #system { width: 1fr; height: auto; max-height: 4; margin-right: 1; }
    PlaygroundScreen ContentSwitcher { height: 1fr; margin-top: 1; }
    PlaygroundScreen #pg-status { height: 1; padding: 0 2; color: $text-muted; }
    PlaygroundScreen #pg-status.-warning { color: $text-warning; }
    PlaygroundScreen #pg-status.-error { color: $text-error; }
    PlaygroundScreen #prompt { margin: 0 1; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "stop", "Stop", tooltip="Stop the reply", id="playground.stop"),
        Binding("ctrl+r", "retry", "Retry", tooltip="Ask again", id="playground.retry"),
        Binding(
            "ctrl+y",
            "copy_reply",
            "Copy",
            tooltip="Copy the last reply (OSC 52)",
            id="playground.copy",
            show=False,  # the footer has no room at 80 columns; F1 and Ctrl+P list it
        ),
        Binding(
            "ctrl+s",
            "save_example",
            "Save",
            tooltip="Save the conversation as a training example",
            id="playground.save",
        ),
        Binding(
            "ctrl+o",
            "toggle_compare",
            "Compare",
            tooltip="Compare models side by side",
            id="playground.compare",
        ),
        Binding(
            "ctrl+b", "batch_check", "Batch", tooltip="Batch check a split", id="playground.batch"
        ),
        Binding(
            "ctrl+l",
            "clear",
            "Clear",
            tooltip="Clear the conversation",
            id="playground.clear",
            show=False,
        ),
        Binding("f2", "focus_model", "Model", tooltip="Pick the model", id="playground.model"),
        Binding(
            "r",
            "reload_models",
            "Retry now",
            tooltip="Fetch the model list again",
            id="playground.reload_models",
        ),
        Binding(
            "i,enter",
            "focus_prompt",
            "Write",
            tooltip="Write a message",
            id="playground.write",
            show=False,  # the empty state says "press Enter and write a message"
        ),
        Binding(
            "ctrl+j", "send", "Send", show=False, tooltip="Send the message", id="playground.send"
        ),
    ]
    COMMANDS = {ScreenBindingCommands}  # noqa: RUF012
    AUTO_FOCUS = ""  # keys 1/2/3 switch screens until the user starts writing (i or enter)

    streaming: var[bool] = var(False, bindings=True)
    compare_mode: var[bool] = var(False, bindings=True)
    last_failed: var[bool] = var(False, bindings=True)
    """The last reply was stopped or cut off: retry is offered."""
    offline: var[bool] = var(False, bindings=True)
    """The model list could not be fetched: it is retried with backoff, `r` retries now."""

    def __init__(self) -> None:
        super().__init__()
        self.history: list[Message] = []
        self._client: AsyncOpenAI | None = None
        self._base_client: AsyncOpenAI | None = None
        self._pending_model: str | None = None
        self._reply_widget: ChatMessage | None = None
        self._auto_system: str = ""

    # --- layout -----------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Vertical(id="playground"):
            with Horizontal(id="pg-settings"):
                yield Label("model")
                yield ModelPicker(id="model", prompt="loading models…")
            with Horizontal(id="pg-system-row"):
                yield Label("system")
                yield TextArea("", id="system", compact=True, soft_wrap=True)
                yield Label(" temp")
                yield Input(
                    placeholder="default",
                    id="temperature",
                    restrict=r"[0-9.]*",
                    compact=True,
                    tooltip="sampling temperature, 0 to 2 (empty: the API default)",
                )
                yield Label("max")
                yield Input(
                    placeholder="no cap",
                    id="max-tokens",
                    type="integer",
                    compact=True,
                    tooltip="maximum tokens in a reply (empty: no cap)",
                )
            with ContentSwitcher(initial="chat"):
                yield ChatLog(EMPTY_CHAT, id="chat")
                yield CompareView(id="compare")
            yield Static("", id="pg-status", markup=False)
            # select_on_focus off: coming back to the prompt must not let a key replace it
            yield Input(placeholder="Message — enter sends", id="prompt", select_on_focus=False)

    def on_mount(self) -> None:
        self._fill_system_prompt()
        self.load_models()

    def on_screen_resume(self) -> None:
        self._fill_system_prompt()

    def on_workspace_changed(self, message: WorkspaceChanged) -> None:
        self._fill_system_prompt()  # another dataset (or its default prompt) may be open

    def _fill_system_prompt(self) -> None:
        """Pre-fill the dataset's system prompt, unless the user has edited the field."""
        prompt = tunebench_app(self).workspace.system_prompt
        area = self.query_one("#system", TextArea)
        if area.text == self._auto_system and prompt != self._auto_system:
            area.load_text(prompt)
            self._auto_system = prompt

    # --- state shown to the user --------------------------------------------------------------

    def status(self, text: str, level: str = "") -> None:
        widget = self.query_one("#pg-status", Static)
        widget.update(text)
        widget.set_class(level == "warning", "-warning")
        widget.set_class(level == "error", "-error")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.streaming
        if action == "focus_prompt":
            return self.focused is None
        if action == "retry":
            return not self.streaming and self.last_failed
        if action == "reload_models":
            return self.offline
        if action in ("copy_reply", "save_example"):
            return None if self.streaming or not self._last_reply() else True
        return True

    def _last_reply(self) -> str:
        if self.history and self.history[-1]["role"] == "assistant":
            return str(self.history[-1]["content"])
        return ""

    # --- the client and the model list --------------------------------------------------------

    def client(self) -> AsyncOpenAI:
        """The profile's client, built once; 429 retries by the SDK show in the status line."""
        if self._client is None:
            from tui.api.client import open_client

            app = tunebench_app(self)
            self._base_client = open_client(app.loaded, app.profile_name)
            self._client = chat.watch_rate_limits(self._base_client, self._on_rate_limited)
        return self._client

    async def on_unmount(self) -> None:
        """Close the HTTP connections (the watching copy owns its own http client)."""
        for client in (self._client, self._base_client):
            if client is not None:
                await client.close()

    def _on_rate_limited(self, seconds: float | None) -> None:
        wait = f" in {seconds:.1f} s" if seconds is not None else ""
        self.status(f"rate limited (429), retrying{wait}…", "warning")

    @property
    def picker(self) -> ModelPicker:
        return self.query_one("#model", ModelPicker)

    @property
    def model(self) -> str | None:
        return self.picker.model

    @work(exclusive=True, group="models", exit_on_error=False)
    async def load_models(self) -> None:
        """Fetch the model list; while the API cannot be reached, retry with backoff (a
        bounded number of times) and say so. `r` retries at once."""
        app = tunebench_app(self)
        self.status("loading models…")
        for attempt, wait in enumerate((*MODEL_LIST_WAITS, None), start=1):
            try:
                models = await chat.list_models(
                    self.client(), extra_base=[app.settings.defaults.model]
                )
                break
            except Exception as exc:
                if not self.picker.choices:
                    self.picker.set_choices([], [self._pending_model])
                self.picker.prompt = "no model list (see below)"
                self.offline = True
                reason = describe(exc)
                if wait is None or not is_transient(exc):
                    app.report_error(exc)
                    self.status(f"{reason} · r retries", "error")
                    return
                self.status(
                    f"offline, retrying in {wait:g} s (attempt {attempt}; r: now) · {reason}",
                    "warning",
                )
                await asyncio.sleep(wait)
        self.offline = False
        from tui.screens.deploy import deployment_choices

        deployed, warning = await deployment_choices(app)
        models.choices[:0] = deployed
        models.warnings += [warning] if warning else []
        remembered = last_choice.last_model(app.profile_name)
        prefer = [self._deployed_name(self._pending_model), remembered]
        self.picker.set_choices(models.choices, prefer)
        self.picker.prompt = "model"
        for pane_picker in self.query_one(CompareView).pickers:
            pane_picker.set_choices(models.choices, [])
        self._pending_model = None
        tuned = sum(c.kind == "tuned" for c in models.choices)
        note = "; ".join(models.warnings)
        self.status(
            f"{tuned} tuned model{'s' if tuned != 1 else ''}, "
            f"{len(models.choices)} in all{' · ' + note if note else ''}",
            "warning" if note else "",
        )

    def _deployed_name(self, model: str | None) -> str | None:
        """Azure: a tuned model is called through its ready deployment, if it has one."""
        ready = tunebench_app(self).deployments.serving(model) if model else None
        return ready.name if ready is not None else model

    def _answering(self, models: list[str]) -> list[str] | None:
        """The names to call `models` by (Azure: a tuned model's ready deployment), or None
        after saying which one must be deployed first (nothing is sent then)."""
        from tui.screens.deploy import not_deployed

        names = [self._deployed_name(model) or model for model in models]
        for name in names:
            blocked = not_deployed(tunebench_app(self), name)
            if blocked:
                self.status(blocked, "error")
                return None
        return names

    def select_model(self, model: str) -> None:
        """Select `model` (from OpenInPlayground); kept until the list has loaded."""
        model = self._deployed_name(model) or model
        self._pending_model = model
        picker = self.picker
        picker.choose(model)

    @on(Select.Changed, "#model")
    def _remember(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            last_choice.remember_model(tunebench_app(self).profile_name, event.value)

    @on(ModelPicker.Picked, "#model")
    def _write_after_picking(self) -> None:
        """A model was picked: the next keys go to the message (Enter must not re-open the
        picker, and what was typed before stays)."""
        if self.picker.has_focus and not self.compare_mode:
            self.query_one("#prompt", Input).focus()

    @on(Select.Changed)
    def _preview_compare(self) -> None:
        if self.compare_mode:
            self._compare_preview()

    def _compare_models(self) -> list[str]:
        main = self.model
        return [*([main] if main else []), *self.query_one(CompareView).extra_models()]

    def _compare_preview(self) -> None:
        self.query_one(CompareView).preview(self._compare_models())

    # --- sending ------------------------------------------------------------------------------

    def _options(self) -> dict[str, Any] | None:
        temp = self.query_one("#temperature", Input).value.strip()
        cap = self.query_one("#max-tokens", Input).value.strip()
        try:
            temperature = float(temp) if temp else None
        except ValueError:
            temperature = -1.0
        if temperature is not None and not 0 <= temperature <= 2:
            self.status("temperature: give a number from 0 to 2 (or leave it empty)", "error")
            return None
        max_tokens = int(cap) if cap else None
        if max_tokens is not None and max_tokens < 1:
            self.status("max tokens: give a whole number of at least 1", "error")
            return None
        return {"temperature": temperature, "max_tokens": max_tokens}

    def system_prompt(self) -> str:
        return self.query_one("#system", TextArea).text

    @on(Input.Submitted, "#prompt")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send()

    def action_send(self) -> None:
        prompt_input = self.query_one("#prompt", Input)
        text = prompt_input.value.strip()
        if not text or self.streaming:
            return
        model = self.model
        if model is None:
            self.status("pick a model first (F2)", "warning")
            return
        if self.compare_mode:
            models = self._compare_models()
            if len(models) < 2:
                self.status("compare: pick a second model above the panes", "warning")
                return
            answering = self._answering(models)  # every pane's model, before any request
            options = self._options() if answering is not None else None
            if answering is None or options is None:
                return
            prompt_input.value = ""
            self.run_compare(answering, text, options)
            return
        called = self._answering([model])
        options = self._options() if called is not None else None
        if called is None or options is None:
            return
        [model] = called
        prompt_input.value = ""
        self.history.append({"role": "user", "content": text})
        log = self.query_one(ChatLog)
        log.add("user", text)
        self._start_reply(model, options)

    def _start_reply(self, model: str, options: dict[str, Any]) -> None:
        log = self.query_one(ChatLog)
        self._reply_widget = log.add("assistant", title=model)
        self.run_reply(model, chat.build_messages(self.system_prompt(), self.history), options)

    @work(exclusive=True, group="chat", exit_on_error=False)
    async def run_reply(self, model: str, messages: list[Message], options: dict[str, Any]) -> None:
        widget = self._reply_widget
        assert widget is not None
        log = self.query_one(ChatLog)
        self.streaming = True
        self.last_failed = False
        self.status(f"asking {model}… (esc stops)")
        log.follow(widget)
        try:
            reply = await chat.stream_chat(
                self.client(), model, messages, on_delta=widget.append, **options
            )
        except asyncio.CancelledError:
            self._end_reply(widget, widget.text, note="[stopped]")
            self.status("stopped; the request was cancelled · ctrl+r asks again", "warning")
            self.last_failed = True
            raise
        except Exception as exc:
            log.unfollow(widget)
            widget.remove()
            failed = self.history.pop()
            self.query_one("#prompt", Input).value = str(failed["content"])
            log.add("error", tunebench_app(self).report_error(exc))
            self.status("the message is back in the input; enter sends it again", "error")
            self.streaming = False
            return
        widget.border_subtitle = reply_stats(reply)
        if reply.cut:
            self._end_reply(widget, reply.text, note=f"[{reply.error}]")
            self.status("reply cut off; the partial text is kept · ctrl+r retries", "warning")
            self.last_failed = True
        else:
            self._end_reply(widget, reply.text)
            self.status("done · ctrl+s saves it as a training example · ctrl+y copies it")

    def _end_reply(self, widget: ChatMessage, text: str, note: str = "") -> None:
        self.query_one(ChatLog).unfollow(widget)
        widget.set_text(text, note=note)
        self.history.append({"role": "assistant", "content": text})
        self.streaming = False

    @work(exclusive=True, group="chat", exit_on_error=False)
    async def run_compare(self, models: list[str], text: str, options: dict[str, Any]) -> None:
        view = self.query_one(CompareView)
        self.streaming = True
        self.status(f"asking {len(models)} models at once… (esc stops)")
        view.start(models)
        messages = chat.build_messages(self.system_prompt(), [{"role": "user", "content": text}])
        try:
            replies = await chat.compare(
                self.client(), models, messages, on_delta=view.append, **options
            )
        except asyncio.CancelledError:
            view.stop()
            self.status("stopped; the requests were cancelled", "warning")
            self.streaming = False
            raise
        except Exception as exc:  # building the client (no key) fails before any model runs
            self.status(tunebench_app(self).report_error(exc), "error")
            self.streaming = False
            return
        view.finish(replies)
        self.streaming = False
        self.status(f"compared {len(models)} models · ctrl+o back to the chat")

    # --- actions ------------------------------------------------------------------------------

    def action_stop(self) -> None:
        self.workers.cancel_group(self, "chat")

    def action_retry(self) -> None:
        """Ask again after a cut or stopped reply: drop it and resend the last user turn."""
        if self.streaming or not self.last_failed:
            return
        model, options = self.model, self._options()
        if model is None or options is None:
            return
        if self.history and self.history[-1]["role"] == "assistant":
            self.history.pop()
            messages = self.query_one(ChatLog).messages()
            if messages and messages[-1].role == "assistant":
                messages[-1].remove()
        if not self.history:
            return
        self._start_reply(model, options)

    def action_copy_reply(self) -> None:
        text = self._last_reply()
        if not text:
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"copied the reply ({len(text)} characters) to the clipboard (OSC 52)")

    def action_save_example(self) -> None:
        if not self._last_reply():
            return
        system = self.system_prompt()
        head = [{"role": "system", "content": system}] if system.strip() else []
        example = [*head, *(dict(m) for m in self.history)]

        def saved(messages: list[Message] | None) -> None:
            if messages is None:
                return
            index = tunebench_app(self).workspace.add_example(list(messages))
            if index is None:  # the dataset is still being read: added once it is open
                self.notify("Added to the dataset being opened (1 shows it; unsaved).")
            else:
                self.notify(f"Added as example {index + 1} of the dataset (1 shows it; unsaved).")

        self.app.push_screen(SaveExampleScreen(example), saved)

    def action_toggle_compare(self) -> None:
        if self.streaming:
            return
        self.compare_mode = not self.compare_mode
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "compare" if self.compare_mode else "chat"
        if self.compare_mode:
            second = self.query_one(CompareView).pickers[0]
            model = self.model
            if model is not None and second.model in (None, model):
                partner = default_partner(model, self.picker.choices)
                if partner is not None:
                    second.choose(partner)
            self._compare_preview()
            self.status("compare: the same message to 2–3 models · pick them above the panes")
        else:
            self.status("chat")

    def action_batch_check(self) -> None:
        model = self.model
        if model is None:
            self.status("pick a model first (F2)", "warning")
            return
        called = self._answering([model])  # Azure: deployed, or "deploy it first" now
        if called is None:
            return
        [model] = called
        app = tunebench_app(self)
        system = app.workspace.system_prompt or None
        self.app.push_screen(
            BatchCheckScreen(self.client, model, path=app.dataset_path, system=system)
        )

    def action_clear(self) -> None:
        if self.streaming:
            return
        self.history.clear()
        self.last_failed = False
        self.query_one(ChatLog).clear()
        self.status("cleared")
        self.refresh_bindings()

    def action_focus_model(self) -> None:
        self.picker.focus()

    def action_reload_models(self) -> None:
        self.load_models()  # exclusive: replaces a worker waiting to retry

    def action_focus_prompt(self) -> None:
        self.set_focus(self.query_one("#prompt", Input))  # at once, before the next key

    async def take_key(self, event: events.Key) -> bool:
        """With no field focused, a printable key that is no binding here (a user who starts
        typing right after the screen opens) moves the focus to the message at once, and is
        routed there with the keys behind it: a fast burst is the message's start, not lost.
        Enter and i (start writing) move it at once too."""
        if self.focused is not None:
            return False
        bound = self.active_bindings.get(event.key)
        if bound is not None and bound.enabled and bound.binding.action == "focus_prompt":
            self.action_focus_prompt()
            return True
        if bound is None and event.is_printable and event.character:
            self.action_focus_prompt()
        return False

    def on_key(self, event: events.Key) -> None:
        """Esc in a field (when no reply is streaming) leaves it, so 1/2/3 switch screens."""
        if event.key == "escape" and not self.streaming and self.focused is not None:
            self.set_focus(None)
            event.stop()
