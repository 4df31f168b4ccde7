"""`emulator --azure`: Azure OpenAI's URLs, auth and errors in front of the emulator.

- classic data plane: `/openai/...?api-version=V` (missing version → 404, unknown → 400, as
  Azure answers), chat only through `/openai/deployments/{name}/chat/completions`;
- v1 data plane: `/openai/v1/...`, no api-version;
- the key as an `api-key` header or `Authorization: Bearer` (Entra tokens come that way too);
  with `--api-key` a wrong or missing key is Azure's 401;
- `trainingType` (standard, globalstandard, developer) on job create, echoed on the job;
- fine-tuning files imported before use: `pending` → `running` → `processed` (or `error`
  with `status_details`), one state per GET of the file; a job on a file that is not
  `processed` is refused (see `azure_files`);
- a job that has not started is `pending` (OpenAI says `validating_files`, `queued`), as in
  Microsoft Learn's fine-tuning tutorial;
- tuned models named as Azure names them: `BASE.ft-<32 hex>`, earlier checkpoints
  `BASE.ft-<32 hex>:ckpt-step-N` (the final epoch's checkpoint is the model itself);
- chat `model` is a deployment name (ready deployments from the ARM surface, see `arm`);
  base model names are accepted as if deployed under their own name;
- the ARM deployments surface at the server's root.

The OpenAI routes stay the handlers: this module only adds prefixed copies and a middleware.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tui.emulator.arm import ArmDeployments
from tui.emulator.azure_files import FileImports
from tui.emulator.store import resolve_base

if TYPE_CHECKING:
    from tui.emulator.app import EmulatorApp, Handler

# Microsoft Learn's API version lifecycle: 2024-10-21 is the latest GA (2024-06-01 the one
# before), 2025-04-01-preview the latest preview; checkpoints need 2024-08-01-preview or later.
API_VERSIONS = (
    "2024-10-21",
    "2024-06-01",
    "2025-04-01-preview",
    "2025-03-01-preview",
    "2025-02-01-preview",
    "2025-01-01-preview",
    "2024-12-01-preview",
    "2024-10-01-preview",
    "2024-09-01-preview",
    "2024-08-01-preview",
    "2024-07-01-preview",
    "2024-05-01-preview",
)
TRAINING_TYPES = ("standard", "globalstandard", "developer")
CHAT_SUFFIX = "/chat/completions"
FILE = re.compile(r"^/openai/(?:v1/)?files/(?P<file_id>[^/]+)$")
JOB = re.compile(r"^/openai/(?:v1/)?fine_tuning/jobs(?:/[^/]+)?$")
NOT_STARTED = ("validating_files", "queued")
NEW_FILE = re.compile(r"^/openai/(?:v1/)?(?:files|uploads/[^/]+/complete)$")
UNAUTHORIZED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)
NO_DEPLOYMENT = (
    "The API deployment for this resource does not exist. If you created the deployment "
    "within the last 5 minutes, please wait a moment and try again."
)


NOT_TUNABLE = "The specified base model does not support fine-tuning."


def describe_urls(root: str) -> str:
    """What `emulator --azure` serves, for its startup message."""
    return (
        f"Azure mode: classic data plane {root}/openai/...?api-version=2024-10-21, "
        f"v1 {root}/openai/v1/, ARM deployments {root}/subscriptions/.../deployments"
    )


def _azure_statuses(response: web.StreamResponse) -> web.StreamResponse:
    """A job (or a page of jobs) as Azure words it: not started yet is `pending`."""
    if response.status != 200 or not isinstance(response, web.Response) or not response.body:
        return response
    body: dict[str, Any] = json.loads(bytes(response.body))  # type: ignore[arg-type]
    jobs = body.get("data") if body.get("object") == "list" else [body]
    changed = False
    for job in jobs if isinstance(jobs, list) else []:
        if isinstance(job, dict) and job.get("status") in NOT_STARTED:
            job["status"] = "pending"
            changed = True
    return web.json_response(body, status=response.status) if changed else response


def azure_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class AzureFront:
    """Installs Azure's surface on an emulator's aiohttp application."""

    def __init__(self, emulator: EmulatorApp, *, api_key: str | None, speed: float) -> None:
        self.emulator = emulator
        emulator.runner.config = replace(emulator.runner.config, azure_names=True)
        self.api_key = api_key
        self.arm = ArmDeployments(speed, self._deployable)
        self.files = FileImports(emulator.store, emulator.faults)
        self.credentials: list[str] = []  # data-plane keys/tokens seen, newest last (tests)

    def _deployable(self, model: str) -> bool:
        return model in self.emulator.store.models or resolve_base(model) is not None

    def install(self, app: web.Application) -> None:
        """Add the Azure routes and the middleware (first, so it sees requests unchanged)."""
        routes = [
            (r.method, r.resource.canonical, r.handler)
            for r in app.router.routes()
            if r.resource is not None and r.resource.canonical.startswith("/v1/")
        ]
        for method, path, handler in routes:
            app.router.add_route(method, "/openai" + path, handler)
            if not path.endswith(CHAT_SUFFIX):  # classic chat goes through a deployment
                app.router.add_route(method, "/openai" + path[len("/v1") :], handler)
        chat = next(h for m, p, h in routes if m == "POST" and p == "/v1" + CHAT_SUFFIX)
        app.router.add_post("/openai/deployments/{deployment}" + CHAT_SUFFIX, chat)
        self.arm.install(app)
        app.middlewares.insert(0, self._middleware)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith("/subscriptions/"):
            refused = self.arm.check(request)
            if refused is not None:
                return refused
            return await request.match_info.handler(request)
        if not path.startswith("/openai/"):
            return await handler(request)
        v1 = path.startswith("/openai/v1/")
        if not v1:
            version = request.query.get("api-version")
            if not version:
                return azure_error(404, "404", "Resource not found")
            if version not in API_VERSIONS:
                return azure_error(400, "BadRequest", "API version not supported")
        credential = self._credential(request)
        if credential is None:
            return azure_error(401, "401", UNAUTHORIZED)
        self.credentials.append(credential)
        # The OpenAI handlers behind check `Authorization: Bearer`: hand them the same caller.
        headers = {k: v for k, v in request.headers.items() if k.lower() != "api-key"}
        headers["Authorization"] = f"Bearer {credential}"
        inner = request.clone(headers=headers)
        if request.method == "POST" and path.endswith(CHAT_SUFFIX):
            refused = await self._check_deployment(inner)
            if refused is not None:
                return refused
        if request.method == "POST" and path.endswith("/fine_tuning/jobs"):
            return await self._create_job(inner, handler)
        if request.method == "GET" and JOB.match(path):
            return _azure_statuses(await handler(inner))
        file_path = FILE.match(path)
        if request.method == "GET" and file_path is not None:
            self.files.polled(file_path["file_id"])
        if request.method == "POST" and NEW_FILE.match(path):
            return await self._import(await handler(inner))
        return await handler(inner)

    async def _import(self, response: web.StreamResponse) -> web.StreamResponse:
        """An upload (or a completed multi-part upload) answered with its file `pending`."""
        if response.status != 200 or not isinstance(response, web.Response) or not response.body:
            return response
        body: dict[str, Any] = json.loads(bytes(response.body))  # type: ignore[arg-type]
        meta = body.get("file") if body.get("object") == "upload" else body
        if not isinstance(meta, dict):
            return response
        await self.files.started(meta)
        stored = self.emulator.store.files.get(str(meta.get("id")))
        if stored is None:
            return response
        if meta is body:
            return web.json_response(stored.meta)
        return web.json_response({**body, "file": stored.meta})

    def _credential(self, request: web.Request) -> str | None:
        key = request.headers.get("api-key", "").strip()
        if not key:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            key = token.strip() if scheme.lower() == "bearer" else ""
        if not key or (self.api_key is not None and key != self.api_key):
            return None
        return key

    async def _check_deployment(self, request: web.Request) -> web.Response | None:
        name = request.match_info.get("deployment")
        if name is None:  # v1: the deployment is the body's model
            try:
                body = await request.json()
            except ValueError:
                return None  # the handler answers a bad body in its own words
            name = body.get("model") if isinstance(body, dict) else None
            if not isinstance(name, str):
                return None
        serving = self.arm.serving()
        self.emulator.deployments.clear()
        self.emulator.deployments.update(serving)
        if name in serving or resolve_base(name) is not None:
            return None
        return azure_error(404, "DeploymentNotFound", NO_DEPLOYMENT)

    async def _create_job(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        training_type = body.get("trainingType", "standard") if isinstance(body, dict) else None
        if isinstance(body, dict) and training_type not in TRAINING_TYPES:
            return azure_error(
                400,
                "invalidPayload",
                f"The specified trainingType '{training_type}' is not supported. Supported "
                f"values: {', '.join(TRAINING_TYPES)}.",
            )
        if isinstance(body, dict):
            for param in ("training_file", "validation_file"):
                refused = self.files.not_ready(body.get(param)) if body.get(param) else None
                if refused is not None:
                    return refused
        response = await handler(request)
        if not isinstance(response, web.Response) or not response.body:
            return response
        created: dict[str, Any] = json.loads(bytes(response.body))  # type: ignore[arg-type]
        if (created.get("error") or {}).get("code") == "model_not_available":
            return azure_error(400, "invalidPayload", NOT_TUNABLE)  # Azure's words for it
        if response.status != 200:
            return response
        job = self.emulator.store.jobs.get(str(created.get("id")))
        if job is None:
            return response
        job.data["trainingType"] = training_type
        return _azure_statuses(web.json_response(job.data, status=response.status))
