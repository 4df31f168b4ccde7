"""The Playground driven by keys against the emulator over real HTTP (no mocks of our code)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from key_bursts import burst
from playground_helpers import KEY_ENV, demo_examples, train, write_jsonl, write_profile
from textual import events
from textual.widgets import Input, Static, TextArea

import tui.app
from tui.api import last_choice
from tui.app import TunebenchApp
from tui.config import load_config
from tui.emulator.chat import generic_answer
from tui.emulator.demo import DEMO_SYSTEM_PROMPT
from tui.emulator.server import Emulator
from tui.messages import OpenInPlayground
from tui.screens.dataset import DatasetScreen
from tui.screens.playground import PlaygroundScreen
from tui.widgets.batch_check import BatchCheckScreen
from tui.widgets.chat_log import ChatLog
from tui.widgets.compare_view import CompareView
from tui.widgets.save_example import SaveExampleScreen

PROMPT = "Kot, spać, kanapa"
ANSWER = "Kot śpi na kanapie."
BASE = "gpt-4.1-mini-2025-04-14"


class RecordingApp(TunebenchApp):
    """The real app; `added` are the examples the Playground added to the open dataset."""

    CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))

    @property
    def added(self) -> list[list[dict[str, object]]]:
        doc = self.workspace.doc
        assert doc is not None
        return [json.loads(entry.text)["messages"] for entry in doc.entries[1:]]


def make_app() -> RecordingApp:
    return RecordingApp(load_config(), profile_name="emu")


@pytest.fixture
async def env(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[SimpleNamespace]:
    """An emulator with a model tuned on the demo pairs, and a profile pointing at it."""
    monkeypatch.setenv(KEY_ENV, "test-key")
    async with Emulator(seed=0, speed=1000.0) as emu:
        write_profile(isolated_home, emu.base_url)
        model = await train(emu.base_url, write_jsonl(tmp_path / "train.jsonl", demo_examples()))
        yield SimpleNamespace(emu=emu, model=model, tmp=tmp_path)


async def open_playground(app: TunebenchApp, pilot) -> PlaygroundScreen:  # type: ignore[no-untyped-def]
    await pilot.press("3")
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, PlaygroundScreen)
    await pilot.press("enter")  # start writing: the prompt takes the keys
    assert app.focused is screen.query_one("#prompt", Input)
    return screen


async def paste(app: TunebenchApp, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Paste into the focused field, as a terminal's bracketed paste arrives."""
    assert app.focused is not None
    app.focused.post_message(events.Paste(text))
    await pilot.pause()


async def send(app: TunebenchApp, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await paste(app, pilot, text)
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


def status(screen: PlaygroundScreen) -> str:
    return str(screen.query_one("#pg-status", Static).render())


async def test_tuned_model_answers_the_trained_way(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        assert screen.model == env.model  # the newest tuned model is picked first
        assert screen.query_one("#system", TextArea).text == DEMO_SYSTEM_PROMPT
        await send(app, pilot, PROMPT)
        messages = screen.query_one(ChatLog).messages()
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[1].text == ANSWER
        assert "19+6 tok" in str(messages[1].border_subtitle)
        assert screen.history == [
            {"role": "user", "content": PROMPT},
            {"role": "assistant", "content": ANSWER},
        ]
        # multi-turn: the second request carries the first exchange
        await send(app, pilot, "Ja, być, wczoraj, zewnątrz")
        assert screen.query_one(ChatLog).messages()[-1].text == "Byłem wczoraj na zewnątrz."
        assert len(screen.history) == 4
    assert last_choice.last_model("emu") == env.model


async def test_model_list_has_checkpoints_and_base_models(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        kinds = {c.id: c.kind for c in screen.picker.choices}
        assert kinds[env.model] == "tuned"
        assert any(k == "checkpoint" and m.startswith(env.model) for m, k in kinds.items())
        assert kinds[BASE] == "base"


async def test_last_choice_is_remembered(env: SimpleNamespace) -> None:
    last_choice.remember_model("emu", BASE)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        assert screen.model == BASE


async def test_stop_mid_stream_keeps_partial_text_and_cancels(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "test-key")
    # speed 1: 30 ms per streamed piece, so there is time to stop mid-reply
    async with Emulator(seed=0, speed=1.0) as emu:
        write_profile(isolated_home, emu.base_url)
        last_choice.remember_model("emu", BASE)
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_playground(app, pilot)
            await paste(app, pilot, "hello there")
            await pilot.press("enter")
            reply = None
            for _ in range(500):  # bounded wait for the first rendered text
                await pilot.pause(0.01)
                messages = screen.query_one(ChatLog).messages()
                reply = messages[-1] if len(messages) == 2 else None
                if reply is not None and reply.renders and reply.text:
                    break
            assert reply is not None and reply.text
            assert screen.streaming
            await pilot.press("escape")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert not screen.streaming
            partial = reply.text
            full = generic_answer(BASE, "hello there")
            assert partial and full.startswith(partial) and len(partial) < len(full) // 2
            assert reply.note == "[stopped]"
            assert screen.history[-1] == {"role": "assistant", "content": partial}
            assert "stopped" in status(screen)
            await pilot.pause(0.2)  # the request is gone: nothing more arrives
            assert reply.text == partial

            # compare mode: one key stops every model's stream
            await pilot.press("ctrl+o", "enter")
            await paste(app, pilot, "hello there")
            await pilot.press("enter")
            view = screen.query_one(CompareView)
            for _ in range(500):
                await pilot.pause(0.01)
                if all(p.body.text for p in view.panes[:2]):
                    break
            await pilot.press("escape")
            await app.workers.wait_for_complete()
            for pane in view.panes[:2]:
                assert pane.border_subtitle == "stopped"
                assert pane.body.note == "[stopped]"
                assert len(pane.body.text) < len(full)


async def test_cut_stream_keeps_partial_text_and_retry_completes(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        await pilot.press("ctrl+r")  # nothing to retry yet: no effect
        env.emu.inject("cut-stream")
        await send(app, pilot, "Mama, ja, wczoraj, być, las")
        reply = screen.query_one(ChatLog).messages()[-1]
        assert reply.text and reply.text != "Mamo, byłem wczoraj w lesie."
        assert "Mamo, byłem wczoraj w lesie.".startswith(reply.text)
        assert "cut off mid-stream" in reply.note
        assert reply.has_class("-partial")
        assert "ctrl+r retries" in status(screen)
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        messages = screen.query_one(ChatLog).messages()
        assert [m.role for m in messages] == ["user", "assistant"]
        assert messages[-1].text == "Mamo, byłem wczoraj w lesie."
        assert not messages[-1].note


async def test_rate_limit_is_visible_and_retried(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        env.emu.inject("429", count=1, seconds=0.5)
        await paste(app, pilot, PROMPT)
        await pilot.press("enter")
        seen = False
        for _ in range(200):  # bounded polling while the SDK waits out retry-after
            await pilot.pause(0.01)
            if "rate limited (429), retrying in 0.5 s" in status(screen):
                seen = True
                break
        assert seen
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one(ChatLog).messages()[-1].text == ANSWER


async def test_compare_two_models_side_by_side(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        await pilot.press("ctrl+o")
        view = screen.query_one(CompareView)
        assert view.display
        assert view.extra_models() == [BASE]  # a tuned model is compared with its base
        await send(app, pilot, PROMPT)
        first, second = view.panes[0], view.panes[1]
        assert first.body.text == ANSWER
        assert second.body.text == generic_answer(BASE, PROMPT)
        assert not view.panes[2].display
        for pane in (first, second):
            assert "first " in str(pane.border_subtitle)
            assert " tok" in str(pane.border_subtitle)
        await pilot.press("ctrl+o")
        assert screen.query_one(ChatLog).display


async def test_save_exchange_as_training_example(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_playground(app, pilot)
        await send(app, pilot, PROMPT)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SaveExampleScreen)
        await pilot.press("end", "backspace", "!")  # edit the answer before saving
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PlaygroundScreen)
        assert app.added == [
            [
                {"role": "system", "content": DEMO_SYSTEM_PROMPT},
                {"role": "user", "content": PROMPT},
                {"role": "assistant", "content": "Kot śpi na kanapie!"},
            ]
        ]


SECOND = "Ja, być, wczoraj, zewnątrz"
SECOND_ANSWER = "Byłem wczoraj na zewnątrz."


async def test_a_conversation_is_saved_whole_with_earlier_replies_untrained(
    env: SimpleNamespace,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_playground(app, pilot)
        await send(app, pilot, PROMPT)
        await send(app, pilot, SECOND)
        await pilot.press("ctrl+s")
        modal = app.screen
        assert isinstance(modal, SaveExampleScreen)
        shown = str(modal.query_one(".context", Static).render())
        assert f"assistant (context, not trained): {ANSWER}" in shown
        assert "the whole conversation (2 turns)" in str(modal.query_one(".hint", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.added == [
            [
                {"role": "system", "content": DEMO_SYSTEM_PROMPT},
                {"role": "user", "content": PROMPT},
                {"role": "assistant", "content": ANSWER, "weight": 0},
                {"role": "user", "content": SECOND},
                {"role": "assistant", "content": SECOND_ANSWER},
            ]
        ]


async def test_ctrl_t_saves_only_the_last_exchange(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_playground(app, pilot)
        await send(app, pilot, PROMPT)
        await send(app, pilot, SECOND)
        await pilot.press("ctrl+s", "ctrl+t")
        modal = app.screen
        assert isinstance(modal, SaveExampleScreen)
        assert ANSWER not in str(modal.query_one(".context", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.added == [
            [
                {"role": "system", "content": DEMO_SYSTEM_PROMPT},
                {"role": "user", "content": SECOND},
                {"role": "assistant", "content": SECOND_ANSWER},
            ]
        ]


async def test_batch_check_gives_exact_match_rate_and_exports(env: SimpleNamespace) -> None:
    examples = demo_examples()[:4]
    wrong = json.loads(json.dumps(demo_examples()[4]))
    wrong["messages"][-1]["content"] = "Something the model never learnt."
    split = write_jsonl(env.tmp / "valid.jsonl", [*examples, wrong])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_playground(app, pilot)
        await pilot.press("ctrl+b")
        assert isinstance(app.screen, BatchCheckScreen)
        await paste(app, pilot, str(split))
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, BatchCheckScreen)
        summary = str(modal.query_one("#batch-summary", Static).render())
        assert summary.startswith("exact match 4/5 (80%)")
        assert [r.exact for r in modal.results] == [True, True, True, True, False]
        await pilot.press("ctrl+s")
        exported = split.with_name(f"valid.check-{env.model.replace(':', '_')}.jsonl")
        rows = [json.loads(line) for line in exported.read_text().splitlines()]
        assert [r["exact"] for r in rows] == [True, True, True, True, False]
        assert rows[4]["expected"] == "Something the model never learnt."
        await pilot.press("escape")
        assert isinstance(app.screen, PlaygroundScreen)


async def test_open_in_playground_and_model_not_found(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(OpenInPlayground("ft:gpt-4.1-mini-2025-04-14:emulator:gone:xyz"))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        assert screen.model == "ft:gpt-4.1-mini-2025-04-14:emulator:gone:xyz"
        await pilot.press("enter")
        await send(app, pilot, PROMPT)
        messages = screen.query_one(ChatLog).messages()
        assert messages[-1].role == "error"
        assert messages[-1].text.startswith("model not found (404): The model")
        assert screen.query_one("#prompt", Input).value == PROMPT  # ready to send again
        assert screen.history == []


async def test_clear_and_copy(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        await send(app, pilot, PROMPT)
        await pilot.press("ctrl+y")
        assert app.clipboard == ANSWER
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert screen.history == []
        assert screen.query_one(ChatLog).messages() == []


async def test_number_keys_still_switch_screens_after_writing(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        await pilot.press("i", "1")  # typed into the prompt, not screen keys
        assert screen.query_one("#prompt", Input).value == "i1"
        await pilot.press("escape", "2")
        assert type(app.screen).__name__ == "JobsScreen"


async def test_typing_right_after_the_playground_opens_starts_the_message(
    env: SimpleNamespace,
) -> None:
    """Keys typed before Enter (or i) are the message's first letters, not lost; the screen
    keys (1/2/3, i) keep their meaning while nothing is focused."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        # one burst from the Dataset screen, as the terminal delivers it: every key queued
        # before the first is handled. 3 opens the Playground and the rest is the message
        # (the screen keys 1, i and 2 inside it are text once the message has begun).
        await burst(pilot, "3", *"Kot 1 i 2, spać")
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        prompt = screen.query_one("#prompt", Input)
        assert prompt.value == "Kot 1 i 2, spać"
        assert app.focused is prompt
        await pilot.press("ctrl+u")  # Input: delete to the start
        await pilot.press(*PROMPT, "enter")  # and typed key by key
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one(ChatLog).messages()[-1].text == ANSWER
        await pilot.press("escape", "2")  # a screen key once nothing is focused again
        assert type(app.screen).__name__ == "JobsScreen"


async def test_esc_then_3_then_a_message_in_one_read_lands_in_the_playground(
    env: SimpleNamespace,
) -> None:
    """Esc and 3 typed fast arrive from the terminal as Alt+3: Esc, then 3 switching at
    once, so the message typed behind them reaches the Playground's prompt."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(events.Key("alt+3", "3"))  # queued with the burst behind it
        await burst(pilot, *"Kot, spać")
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        assert screen.query_one("#prompt", Input).value == "Kot, spać"


async def test_typing_in_the_playground_starts_with_a_screen_key_as_a_screen_key(
    env: SimpleNamespace,
) -> None:
    """A burst that begins with i focuses the prompt (i is not typed) and the rest is text."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await app.workers.wait_for_complete()
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        await burst(pilot, *"iKot")
        assert screen.query_one("#prompt", Input).value == "Kot"


async def test_dataset_system_prompt_wins_and_edits_are_kept(env: SimpleNamespace) -> None:
    app = make_app()
    app.workspace.configured_system = "Popraw gramatykę i interpunkcję."
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        system = screen.query_one("#system", TextArea)
        assert system.text == "Popraw gramatykę i interpunkcję."
        system.focus()
        await pilot.press("end", "!")
        assert app.workspace.doc is not None
        app.workspace.doc.default_system = "Something else."
        await pilot.press("escape", "1", "3")  # leave and come back
        assert system.text == "Popraw gramatykę i interpunkcję.!"


async def test_palette_lists_playground_actions(env: SimpleNamespace) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(app, pilot)
        await pilot.press("escape", "ctrl+p")
        await pilot.press(*"compare models")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.compare_mode


async def test_saved_exchange_becomes_a_dataset_row(env: SimpleNamespace) -> None:
    """The loop back to data: the real app's Dataset screen gains the row, undoably,
    and the user stays in the Playground."""
    dataset = write_jsonl(env.tmp / "data.jsonl", demo_examples()[:12])
    app = TunebenchApp(load_config(), profile_name="emu", dataset_path=dataset)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        dataset_screen = app.screen
        assert isinstance(dataset_screen, DatasetScreen)
        await open_playground(app, pilot)
        app.screen.select_model(env.model)  # type: ignore[attr-defined]
        await send(app, pilot, PROMPT)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SaveExampleScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PlaygroundScreen)
        assert dataset_screen.doc is not None and len(dataset_screen.doc) == 13
        assert json.loads(dataset_screen.doc.entries[12].text)["messages"][1:] == [
            {"role": "user", "content": PROMPT},
            {"role": "assistant", "content": "Kot śpi na kanapie."},
        ]
        assert any("Added as example 13 of the dataset" in n.message for n in app._notifications)
        await pilot.press("escape", "1")  # leave the prompt, then the Dataset screen
        assert app.screen is dataset_screen and dataset_screen.current == 12
