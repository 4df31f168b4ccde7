"""Checkpoint permissions (share a tuned model with other projects) through the official SDK."""

from __future__ import annotations

import json

import openai
import pytest
from emulator_support import client, jsonl, learnable_pairs, server, wait_job

__all__ = ["client", "server"]  # fixtures


@pytest.fixture
def checkpoint(client: openai.OpenAI) -> str:
    file_id = client.files.create(
        file=("t.jsonl", jsonl(learnable_pairs())), purpose="fine-tune"
    ).id
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=file_id, hyperparameters={"n_epochs": 3}
    )
    wait_job(client, job.id)
    return next(iter(client.fine_tuning.jobs.checkpoints.list(job.id))).fine_tuned_model_checkpoint


def test_grant_list_page_filter_and_revoke(client: openai.OpenAI, checkpoint: str) -> None:
    permissions = client.fine_tuning.checkpoints.permissions
    raw = permissions.with_raw_response.create(checkpoint, project_ids=["proj_a", "proj_b"])
    body = json.loads(raw.text)
    assert body["object"] == "list" and body["has_more"] is False
    created = body["data"]
    assert [p["project_id"] for p in created] == ["proj_a", "proj_b"]
    assert all(
        p["object"] == "checkpoint.permission" and p["id"].startswith("cp_") for p in created
    )
    more = permissions.create(checkpoint, project_ids=["proj_c"])
    newest_first = [p.project_id for p in permissions.list(checkpoint, limit=2)]
    assert newest_first == ["proj_c", "proj_b", "proj_a"]  # auto-paging by last_id
    page = json.loads(permissions.with_raw_response.list(checkpoint, limit=2).text)
    assert page["has_more"] is True and page["last_id"] == page["data"][-1]["id"]
    oldest_first = [p.project_id for p in permissions.list(checkpoint, order="ascending")]
    assert oldest_first == ["proj_a", "proj_b", "proj_c"]
    only_b = list(permissions.list(checkpoint, project_id="proj_b"))
    assert [p.id for p in only_b] == [created[1]["id"]]
    gone = permissions.delete(more.data[0].id, fine_tuned_model_checkpoint=checkpoint)
    assert gone.deleted and gone.id == more.data[0].id and gone.object == "checkpoint.permission"
    assert [p.project_id for p in permissions.list(checkpoint)] == ["proj_b", "proj_a"]
    with pytest.raises(openai.NotFoundError) as err:
        permissions.delete(more.data[0].id, fine_tuned_model_checkpoint=checkpoint)
    assert err.value.param == "permission_id"


def test_refusals(client: openai.OpenAI, checkpoint: str) -> None:
    permissions = client.fine_tuning.checkpoints.permissions
    with pytest.raises(openai.NotFoundError) as unknown:
        permissions.create("ft:gpt-4o-mini-2024-07-18:x::nope", project_ids=["p"])
    assert unknown.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as empty:
        permissions.create(checkpoint, project_ids=[])
    assert empty.value.param == "project_ids"
    with pytest.raises(openai.BadRequestError) as order:
        permissions.list(checkpoint, order="sideways")  # type: ignore[arg-type]
    assert order.value.param == "order"
