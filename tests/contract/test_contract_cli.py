"""The CLI against a server that answers with anything the OpenAPI spec allows (drawn by
hypothesis-jsonschema: missing optionals, nulls, empty pages, `has_more` that never moves,
unknown enum values, extra fields): no traceback, bounded requests, one line per problem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contract_support import CONTRACT, point_config_at, run_main
from hypothesis import given
from hypothesis import strategies as st
from spec_bodies import bodies, component
from spec_stub import Scenario, SpecStub, page

from tui.api.jobs import TERMINAL
from tui.api.paging import MAX_PAGES


@pytest.fixture(scope="module")
def stub() -> Iterator[SpecStub]:
    with SpecStub().running() as server:
        yield server


@pytest.fixture
def cli(stub: SpecStub, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> SpecStub:
    point_config_at(isolated_home, stub.base_url)
    monkeypatch.setenv("STUB_KEY", "sk-stub")
    return stub


def serve(stub: SpecStub, scenario: Scenario) -> None:
    stub.scenario = scenario
    stub.requests.clear()


def no_traceback(text: str) -> None:
    assert "Traceback" not in text and "unexpected error" not in text, text


@CONTRACT
@given(jobs_page=bodies("listPaginatedFineTuningJobs"))
def test_jobs_list_prints_any_page(cli: SpecStub, jobs_page: dict[str, Any]) -> None:
    serve(cli, Scenario(jobs_page=jobs_page))
    ran = run_main("jobs", "list")
    no_traceback(ran.err)
    assert ran.code == 0, ran
    assert len(ran.out.splitlines()) == len(jobs_page["data"])  # one line a job
    assert len(ran.err_lines) <= 1  # "no jobs" or "(more jobs …)", never both
    assert cli.count("/fine_tuning/jobs") == 1


def test_an_empty_page_that_claims_more_prints_one_line(cli: SpecStub) -> None:
    serve(cli, Scenario(jobs_page=page([], has_more=True)))
    ran = run_main("jobs", "list")
    assert ran.code == 0
    assert ran.out == ""
    assert ran.err_lines == ["no jobs (the server said there were more, but sent an empty page)"]


@CONTRACT
@given(
    job=bodies("retrieveFineTuningJob"),
    events=bodies("listFineTuningEvents"),
    status=st.sampled_from(sorted(TERMINAL)),
)
def test_jobs_watch_survives_any_job_and_events(
    cli: SpecStub, job: dict[str, Any], events: dict[str, Any], status: str
) -> None:
    """The same events page is served again and again: when it says `has_more`, that is the
    trap of a cursor that never moves."""
    serve(cli, Scenario(job={**job, "status": status}, events_page=events))
    ran = run_main("jobs", "watch", "ftjob-contract")
    no_traceback(ran.err)
    assert ran.code == (0 if status == "succeeded" else 1), ran
    assert cli.count("/events") <= 2  # the second page repeats the first: paging stops
    unique = {e["id"] for e in events["data"]}
    assert len(ran.out.splitlines()) == len(unique)  # each event once
    if events["has_more"] and events["data"]:
        assert "warning: stopped paging events: the server sent events" in ran.err


def test_jobs_watch_stops_paging_a_cursor_that_does_not_move(cli: SpecStub) -> None:
    """The bug as seen: `has_more: true` with the same page forever made 1,173 requests."""
    events = [_event(f"ftevent-{i}", i) for i in range(3)]
    serve(cli, Scenario(job=_job("succeeded"), events_page=page(events, has_more=True)))
    ran = run_main("jobs", "watch", "ftjob-1")
    assert ran.code == 0, ran
    assert cli.count("/events") == 2
    assert ran.out.count("\n") == 3
    assert "stopped paging events: the server sent events it had already sent" in ran.err


def test_jobs_watch_stops_an_endless_history_after_a_page_budget(cli: SpecStub) -> None:
    served = iter(range(10**6))

    def fresh_page(_request: Any) -> dict[str, Any]:
        n = next(served)
        return page([_event(f"ftevent-{n}", n)], has_more=True)

    serve(cli, Scenario(job=_job("cancelled"), events_page=fresh_page))
    ran = run_main("jobs", "watch", "ftjob-1")
    assert ran.code == 1
    assert cli.count("/events") == MAX_PAGES
    assert f"still had more after {MAX_PAGES} pages" in ran.err


@CONTRACT
@given(job=bodies("cancelFineTuningJob"), status=st.sampled_from(sorted(TERMINAL)))
def test_jobs_cancel_exits_0_only_when_cancelled(
    cli: SpecStub, job: dict[str, Any], status: str
) -> None:
    serve(cli, Scenario(job={**job, "status": status}))
    ran = run_main("jobs", "cancel", "ftjob-contract")
    no_traceback(ran.err)
    assert ran.code == (0 if status == "cancelled" else 1), ran


def test_jobs_cancel_waits_until_the_job_is_cancelled(cli: SpecStub) -> None:
    answers = iter(["running", "cancelling", "cancelled"])
    serve(cli, Scenario(job=lambda _request: _job(next(answers))))
    ran = run_main("jobs", "cancel", "ftjob-1")
    assert ran.code == 0, ran
    assert ran.out.strip() == "ftjob-1: cancelled"
    assert "ftjob-1: running; checking again" in ran.err
    assert cli.count("/cancel") == 1 and cli.count("/ftjob-1") == 2


def test_jobs_cancel_no_wait_returns_at_once(cli: SpecStub) -> None:
    serve(cli, Scenario(job=_job("running")))
    ran = run_main("jobs", "cancel", "ftjob-1", "--no-wait")
    assert ran.code == 0
    assert ran.out.strip() == "ftjob-1: running"
    assert cli.count("/ftjob-1") == 0  # no polling


def test_jobs_cancel_of_a_job_that_already_succeeded_exits_1(cli: SpecStub) -> None:
    serve(cli, Scenario(job=_job("succeeded")))
    ran = run_main("jobs", "cancel", "ftjob-1")
    assert ran.code == 1
    assert "ended as succeeded before it could be cancelled" in ran.err


@CONTRACT
@given(chunks=st.lists(component("CreateChatCompletionStreamResponse"), max_size=4))
def test_chat_survives_any_stream(cli: SpecStub, chunks: list[dict[str, Any]]) -> None:
    serve(cli, Scenario(chat_chunks=chunks))
    ran = run_main("chat", "--model", "m", "hello")
    no_traceback(ran.err)
    finished = any(
        isinstance(c, dict) and c.get("index") in (0, None) and c.get("finish_reason")
        for chunk in chunks
        for c in chunk.get("choices") or []
    )
    assert ran.code == (0 if finished else 1), ran
    assert len(ran.err_lines) <= 2  # the stats line, and a warning if it was cut


@CONTRACT
@given(completion=component("CreateChatCompletionResponse"))
def test_chat_accepts_a_plain_json_answer_to_a_streamed_request(
    cli: SpecStub, completion: dict[str, Any]
) -> None:
    serve(cli, Scenario(chat_completion=completion))
    ran = run_main("chat", "--model", "m", "hello")
    no_traceback(ran.err)
    assert ran.code == (0 if completion["choices"] else 1), ran
    assert "cut off" not in ran.err


def test_chat_prints_a_non_streamed_reply(cli: SpecStub) -> None:
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "Kot śpi na kanapie."},
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15},
    }
    serve(cli, Scenario(chat_completion=completion))
    ran = run_main("chat", "--model", "m", "Kot, spać, kanapa")
    assert ran.code == 0, ran
    assert ran.out == "Kot śpi na kanapie.\n"
    assert "9 prompt + 6 reply tokens" in ran.err and "cut off" not in ran.err


def _job(status: str) -> dict[str, Any]:
    """A job as a minimal spec-valid server sends it: no `user_provided_suffix`, no method."""
    return {
        "id": "ftjob-1",
        "object": "fine_tuning.job",
        "created_at": 1_790_000_000,
        "error": None,
        "fine_tuned_model": None,
        "finished_at": None,
        "hyperparameters": {"n_epochs": "auto"},
        "model": "gpt-4.1-mini-2025-04-14",
        "organization_id": "org-1",
        "result_files": [],
        "seed": 1,
        "status": status,
        "trained_tokens": None,
        "training_file": "file-1",
        "validation_file": None,
    }


def _event(event_id: str, n: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "fine_tuning.job.event",
        "created_at": 1_790_000_000 + n,
        "level": "info",
        "message": f"event {n}",
    }
