"""The app's Azure flow by keys, against `emulator --azure` over HTTP: d on a succeeded job
deploys it (Developer tier), the deployments list shows it with its 24-hour lifetime, Enter
talks to it in the Playground, an undeployed tuned model says "deploy it first", x deletes
after a yes. Snapshots of the deploy dialog and the list at 80x24 and 160x48."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure_support import KEY, deployments_of, tuned_model, write_azure_config
from dataset_support import settle
from emulator_support import FAST
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Select, Static

from tui.api.arm import default_name
from tui.app import TunebenchApp
from tui.config import load_config
from tui.core.models import short_name
from tui.emulator import EmulatorThread
from tui.screens.deploy import DeploymentsScreen, DeployScreen
from tui.screens.job_detail import ConfirmScreen, JobDetailScreen
from tui.screens.playground import PlaygroundScreen
from tui.widgets.batch_check import BatchCheckScreen
from tui.widgets.compare_view import CompareView

FROZEN = 1_790_000_000  # 2026-09-21 14:13:20 UTC
AZURE_MODEL = "gpt-4.1-mini-2025-04-14.ft-c17bfc0fbd8b528bc33511771401711e"  # Azure's naming
SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
CSS = str(Path(__file__).parent.parent / "tui" / "app.tcss")


class AzureApp(TunebenchApp):
    CSS_PATH = CSS


@pytest.fixture
def azure() -> Iterator[EmulatorThread]:
    with EmulatorThread(seed=4, speed=FAST, api_key=KEY, env_faults=False, azure=True) as emu:
        yield emu


@pytest.fixture
def config(azure: EmulatorThread, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in write_azure_config(isolated_home, azure.root_url).items():
        monkeypatch.setenv(name, value)


def make_app() -> AzureApp:
    app = AzureApp(load_config(), profile_name="azure")
    app.clock = lambda: FROZEN + 5400  # 1 h 30 min after the frozen deployment time
    return app


async def wait_for(pilot: Pilot[Any], condition: Any, what: str, rounds: int = 500) -> None:
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def freeze_deployments(azure: EmulatorThread) -> None:
    for deployment in deployments_of(azure).values():
        deployment.created = FROZEN


async def test_deploy_list_talk_and_delete_by_keys(azure: EmulatorThread, config: None) -> None:
    model = tuned_model(azure)
    job_id = next(iter(azure.emulator.store.jobs))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        app.push_screen(JobDetailScreen(job_id))
        await wait_for(pilot, lambda: getattr(app.screen, "job", None) is not None, "the job")
        await pilot.press("d")
        assert isinstance(app.screen, DeployScreen)
        dialog = app.screen
        assert dialog.query_one("#d-name", Input).value == default_name(model)
        assert model.startswith("gpt-4.1-mini-2025-04-14.ft-")  # Azure's naming
        await pilot.press("tab", "enter", "down", "down", "enter")  # type: developer
        assert dialog.query_one("#d-sku", Select).value == "developer"
        assert "Removed after 24 hours" in str(dialog.query_one("#d-note", Static).render())
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the deployment")
        [(name, deployment)] = deployments_of(azure).items()
        assert deployment.model["name"] == model and deployment.sku["name"] == "DeveloperTier"
        assert deployment.state() == "Succeeded"
        freeze_deployments(azure)

        await pilot.press("escape", "d")  # back to Jobs; d lists the deployments
        assert isinstance(app.screen, DeploymentsScreen)
        table = app.screen.query_one("#dep-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, "the deployments list")
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row == [
            name, "Succeeded", "DeveloperTier", "1", "22 h 30 min left", short_name(model)
        ]  # fmt: skip
        detail = str(app.screen.query_one("#dep-detail", Static).render())
        assert f"{name} serves {model}" in detail
        assert "Developer tier: ends in 22 h 30 min (24-hour lifetime)" in detail

        await pilot.press("enter")  # talk to it
        await wait_for(pilot, lambda: isinstance(app.screen, PlaygroundScreen), "Playground")
        playground = app.screen
        await wait_for(pilot, lambda: playground.model == name, "the deployment chosen")
        playground.query_one("#prompt", Input).value = "kot, spać, dom, numer 0"
        await pilot.press("ctrl+j")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert playground.history[-1] == {"role": "assistant", "content": "Kot śpi w domu."}

        deployments_of(azure).clear()  # gone behind the app's back
        playground.picker.choose(model)  # the bare tuned model, not deployed
        playground.query_one("#prompt", Input).value = "Ja, mieć, kot"
        app.deployments.replace([])
        await pilot.press("ctrl+j")
        status = str(playground.query_one("#pg-status", Static).render())
        assert status.startswith("Deploy it first: d on its job (Jobs, 2)")
        assert f"{short_name(model)} is not deployed" in status
        assert playground.query_one("#prompt", Input).value == "Ja, mieć, kot"  # kept


async def test_delete_asks_first_then_removes(azure: EmulatorThread, config: None) -> None:
    model = tuned_model(azure)
    from tui.api.client import arm_deployments, endpoint_for

    async with arm_deployments(endpoint_for(load_config(), "azure")) as arm:
        await arm.create(model, "to-delete", "Standard", 1)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.action_show_deployments()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DeploymentsScreen)
        table = screen.query_one("#dep-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, "the list")
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # no: nothing happens
        assert "to-delete" in deployments_of(azure)
        await pilot.press("x", "y")
        await wait_for(pilot, lambda: table.row_count == 0, "the row to go")
        assert "to-delete" not in deployments_of(azure)
        assert "deleted to-delete" in str(screen.query_one("#dep-message", Static).render())


@SIZES
def test_deploy_dialog_snapshot(snap_compare, isolated_home: Path, size: tuple[int, int]) -> None:
    write_azure_config(isolated_home, "http://127.0.0.1:9")
    app = make_app()

    async def open_dialog(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)  # the new dataset behind it, counted and drawn
        app.push_screen(DeployScreen(f"{AZURE_MODEL}:ckpt-step-138"))
        await pilot.pause()

    assert snap_compare(app, run_before=open_dialog, terminal_size=size)


@SIZES
def test_deployments_list_snapshot(
    snap_compare, azure: EmulatorThread, config: None, size: tuple[int, int]
) -> None:
    from tui.emulator.arm import Deployment

    for name, sku, model in (
        ("grammar-dev", "DeveloperTier", AZURE_MODEL),
        ("grammar-step-138", "Standard", f"{AZURE_MODEL}:ckpt-step-138"),
        ("base-mini", "GlobalStandard", "gpt-4.1-mini-2025-04-14"),
    ):
        deployments_of(azure)[name] = Deployment(
            f"/x/{name}", name, {"name": sku, "capacity": 1},
            {"format": "OpenAI", "name": model, "version": "1"},
            created=FROZEN, ready_at=time.monotonic() - 1,
        )  # fmt: skip
    app = make_app()

    async def open_list(pilot) -> None:  # type: ignore[no-untyped-def]
        app.action_show_deployments()
        await pilot.pause()
        screen = app.screen
        await wait_for(
            pilot, lambda: screen.query_one("#dep-table", DataTable).row_count == 3, "rows"
        )
        await pilot.pause()

    assert snap_compare(app, run_before=open_list, terminal_size=size)


async def test_launch_form_sends_the_training_type(azure: EmulatorThread, config: None) -> None:
    from tui.emulator import demo_dataset_path
    from tui.screens.launch import LaunchScreen

    app = AzureApp(load_config(), profile_name="azure", dataset_path=demo_dataset_path())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "n")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        training_type = launch.query_one("#f-training-type", Select)
        assert training_type.parent is not None and training_type.parent.display
        await wait_for(pilot, lambda: launch.check is not None, "the pre-flight")
        training_type.value = "developer"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job", 1500)
        # the job screen mounted and loaded before the app closes (an exit mid-mount races
        # Textual's tabs under load)
        await wait_for(pilot, lambda: getattr(app.screen, "job", None) is not None, "loaded", 1500)
        [job] = azure.emulator.store.jobs.values()
        assert job.data["trainingType"] == "developer"


async def test_deploy_dialog_and_deployments_keys_follow_the_keymap(
    azure: EmulatorThread, config: None, isolated_home: Path
) -> None:
    """`keys:` rebinds the dialog's deploy key and the list's delete and reload keys."""
    model = tuned_model(azure)
    path = isolated_home / "config" / "tunebench" / "config.yaml"
    with path.open("a", encoding="utf-8") as config_file:
        config_file.write(
            "keys:\n  deploy.go: ctrl+g\n  deployments.delete: ctrl+d\n"
            "  deployments.reload: ctrl+r\n"
        )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(DeployScreen(model))
        await pilot.pause()
        assert str(app.screen.query_one("#deploy", Button).label) == "Deploy (Ctrl+G)"
        await pilot.press("ctrl+s")  # the old key does nothing now
        await pilot.pause()
        assert deployments_of(azure) == {}
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: not isinstance(app.screen, DeployScreen), "deployed")
        [name] = deployments_of(azure)

        app.action_show_deployments()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DeploymentsScreen)
        table = screen.query_one("#dep-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, "the list")
        message = str(screen.query_one("#dep-message", Static).render())
        assert "Enter: talk to it · Ctrl+D: delete · Ctrl+R: reload" in message  # as rebound
        await pilot.press("x")  # rebound: no question
        assert app.screen is screen
        await pilot.press("ctrl+d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert app.screen is screen and name in deployments_of(azure)
        deployments_of(azure).clear()  # gone behind the app's back: a reload shows it
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: table.row_count == 0, "the reload")


async def test_launch_waits_for_the_import_and_says_when_azure_refuses_the_file(
    azure: EmulatorThread, config: None
) -> None:
    from tui.emulator import demo_dataset_path
    from tui.screens.launch import LaunchScreen

    azure.inject("import-error", 1)
    app = AzureApp(load_config(), profile_name="azure", dataset_path=demo_dataset_path())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "n")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        await wait_for(pilot, lambda: launch.check is not None, "the pre-flight")
        await pilot.press("ctrl+s")
        message = launch.query_one("#launch-message", Static)
        await wait_for(pilot, lambda: "could not import" in str(message.render()), "refusal", 1500)
        assert azure.emulator.store.jobs == {}  # no job on a file Azure refused
        assert "The file could not be imported" in str(message.render())
        await pilot.press("ctrl+s")  # again: a fresh upload, imported, then the job
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job", 1500)
        await wait_for(pilot, lambda: getattr(app.screen, "job", None) is not None, "loaded", 1500)
        [job] = azure.emulator.store.jobs.values()
        assert azure.emulator.store.files[job.data["training_file"]].meta["status"] == "processed"


async def open_azure_playground(app: AzureApp, pilot: Pilot[Any]) -> PlaygroundScreen:
    await pilot.press("3")
    await wait_for(pilot, lambda: isinstance(app.screen, PlaygroundScreen), "Playground")
    screen = app.screen
    assert isinstance(screen, PlaygroundScreen)
    await wait_for(pilot, lambda: app.deployments.loaded, "the deployments listed")
    await app.workers.wait_for_complete()
    return screen


def chat_calls(azure: EmulatorThread) -> int:
    """Data-plane requests so far (each carries the key)."""
    assert azure.emulator.azure is not None
    return len(azure.emulator.azure.credentials)


async def test_compare_checks_every_model_is_deployed_before_sending(
    azure: EmulatorThread, config: None
) -> None:
    model = tuned_model(azure)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        playground = await open_azure_playground(app, pilot)
        playground.picker.choose("gpt-4.1-mini-2025-04-14")  # a base model answers as is
        await pilot.press("ctrl+o")  # compare
        view = playground.query_one(CompareView)
        view.pickers[0].choose(model)  # the second pane: a tuned model, not deployed
        await pilot.pause()
        prompt = playground.query_one("#prompt", Input)
        prompt.value = "kot, spać, dom, numer 0"
        before = chat_calls(azure)
        await pilot.press("ctrl+j")
        status = str(playground.query_one("#pg-status", Static).render())
        assert status.startswith("Deploy it first: d on its job (Jobs, 2)")
        assert f"({model})" in status  # the full id, after what to do
        assert prompt.value == "kot, spać, dom, numer 0"  # kept for after deploying
        await app.workers.wait_for_complete()
        assert chat_calls(azure) == before  # nothing was sent: no 404 half-way
        assert not view.busy and view.panes[0].body.text == ""


async def test_batch_check_wants_a_deployment_then_runs_through_it(
    azure: EmulatorThread, config: None
) -> None:
    from tui.api.client import arm_deployments, endpoint_for

    model = tuned_model(azure)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        playground = await open_azure_playground(app, pilot)
        playground.picker.choose(model)
        await pilot.pause()
        await pilot.press("ctrl+b")
        assert not isinstance(app.screen, BatchCheckScreen)
        status = str(playground.query_one("#pg-status", Static).render())
        assert status.startswith("Deploy it first") and f"({model})" in status

        async with arm_deployments(endpoint_for(load_config(), "azure")) as arm:
            await arm.create(model, "grammar", "Standard", 1)
            deployed = await arm.wait("grammar", interval=0.01, timeout=30)
        app.deployments.upsert(deployed)
        await pilot.press("ctrl+b")  # the tuned model is called through its deployment
        screen = app.screen
        assert isinstance(screen, BatchCheckScreen) and screen.model == "grammar"
        from tui.emulator import demo_dataset_path

        screen.query_one("#batch-path", Input).value = str(demo_dataset_path())
        screen.query_one("#batch-limit", Input).value = "5"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(screen.results) == 5, "the check", 1500)
        assert [r.error for r in screen.results] == [None] * 5  # no 404 DeploymentNotFound
