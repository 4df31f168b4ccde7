"""Checkpoint permissions: share a tuned model or checkpoint with other projects.

The real endpoints need an admin key; the emulator takes any key, as everywhere else.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tui.emulator.errors import ApiError, array_too_long, invalid, missing, model_not_found
from tui.emulator.store import Ids, Store, now, page
from tui.emulator.wire import json_body, json_response, limit

MAX_PROJECTS = 100


class PermissionRoutes:
    """`/v1/fine_tuning/checkpoints/{checkpoint}/permissions[/{permission_id}]`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ids = Ids(f"{store.seed}:permissions")
        self.granted: dict[str, list[dict[str, Any]]] = {}  # model -> permissions, oldest first

    def register(self, router: web.UrlDispatcher) -> None:
        path = "/v1/fine_tuning/checkpoints/{checkpoint}/permissions"
        router.add_get(path, self.list)
        router.add_post(path, self.create)
        router.add_delete(path + "/{permission_id}", self.delete)

    def _permissions(self, request: web.Request) -> list[dict[str, Any]]:
        model = request.match_info["checkpoint"]
        if model not in self.store.models:
            raise model_not_found(model)
        return self.granted.setdefault(model, [])

    async def list(self, request: web.Request) -> web.Response:
        permissions = self._permissions(request)
        order = request.query.get("order", "descending")
        if order not in ("ascending", "descending"):
            raise invalid(
                "order", f"expected 'ascending' or 'descending', but got {order!r} instead."
            )
        rows = permissions if order == "ascending" else list(reversed(permissions))
        project = request.query.get("project_id")
        return json_response(
            page(
                rows,
                after=request.query.get("after"),
                limit=limit(request, 10, 100),
                with_ids=True,
                keep=(lambda p: p["project_id"] == project) if project is not None else None,
            )
        )

    async def create(self, request: web.Request) -> web.Response:
        permissions = self._permissions(request)
        body = await json_body(request)
        projects = body.get("project_ids")
        if projects is None:
            raise missing("project_ids")
        if (
            not isinstance(projects, list)
            or not projects
            or not all(isinstance(p, str) and p for p in projects)
        ):
            raise invalid("project_ids", "expected a non-empty array of project ids.")
        if len(projects) > MAX_PROJECTS:
            raise array_too_long("project_ids", len(projects), MAX_PROJECTS)
        created = [
            {
                "id": self.ids.new("cp_"),
                "object": "checkpoint.permission",
                "created_at": now(),
                "project_id": project,
            }
            for project in projects
        ]
        permissions.extend(created)
        return json_response(
            {
                "object": "list",
                "data": created,
                "has_more": False,
                "first_id": created[0]["id"],
                "last_id": created[-1]["id"],
            }
        )

    async def delete(self, request: web.Request) -> web.Response:
        permissions = self._permissions(request)
        permission_id = request.match_info["permission_id"]
        for i, permission in enumerate(permissions):
            if permission["id"] == permission_id:
                del permissions[i]
                return json_response(
                    {"id": permission_id, "object": "checkpoint.permission", "deleted": True}
                )
        raise ApiError(
            404,
            f"No such checkpoint permission: '{permission_id}'",
            param="permission_id",
        )
