"""A fake Azure Resource Manager surface for model deployments (`emulator --azure`).

`/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/
{account}/deployments[/{name}]` with PUT/GET/DELETE and list, the ARM api-versions Microsoft's
docs use, any non-empty bearer token, and ARM's error shape `{"error": {"code", "message"}}`.
A new deployment is answered `Accepted` (as in the 2024-10-01 spec's example), is `Creating`
for a few seconds (divided by the emulator's speed), then `Succeeded`; from then on the data
plane answers chat under its name. Each account has a quota of capacity units; a deployment
beyond it is refused with ARM's `InsufficientQuota`.

Deployments belong to one account (subscription, resource group, account name), as in ARM:
one account's list, GET and DELETE never see another's. The emulator has one data plane,
which answers chat for the ready deployments of every account.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

# 2024-10-01 and 2025-06-01 are stable Microsoft.CognitiveServices versions in
# azure-rest-api-specs; 2024-10-21 is what Microsoft Learn's fine-tuning deploy page sends.
API_VERSIONS = ("2024-10-01", "2025-06-01", "2024-10-21")
QUOTA = 100  # capacity units per account, the emulator's own figure
SKUS = {
    "standard": "Standard",
    "globalstandard": "GlobalStandard",
    "developertier": "DeveloperTier",
}
PROVISION_SECONDS = 3.0
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
PREFIX = (
    "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices"
    "/accounts/{account}/deployments"
)


def arm_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@dataclass
class Deployment:
    resource_id: str
    name: str
    sku: dict[str, Any]
    model: dict[str, Any]
    created: float = field(default_factory=time.time)
    ready_at: float = 0.0

    def state(self) -> str:
        return "Succeeded" if time.monotonic() >= self.ready_at else "Creating"

    def body(self) -> dict[str, Any]:
        created = datetime.fromtimestamp(self.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {
            "id": self.resource_id,
            "type": "Microsoft.CognitiveServices/accounts/deployments",
            "name": self.name,
            "sku": self.sku,
            "properties": {
                "model": self.model,
                "provisioningState": self.state(),
                "versionUpgradeOption": "NoAutoUpgrade",
            },
            "systemData": {"createdAt": created, "lastModifiedAt": created},
        }


AccountKey = tuple[str, str, str]  # subscription, resource group, account (ARM: case-blind)


def account_key(request: web.Request) -> AccountKey:
    info = request.match_info
    return (info["sub"], info["rg"], info["account"])


class ArmDeployments:
    """Deployments per account; `model_exists` says which model names may be deployed."""

    def __init__(self, speed: float, model_exists: Callable[[str], bool]) -> None:
        self.speed = speed
        self.model_exists = model_exists
        self.accounts: dict[AccountKey, dict[str, Deployment]] = {}
        self.tokens: list[str] = []  # bearer tokens seen, newest last (tests check them)

    def serving(self) -> dict[str, str]:
        """Deployment name → model name, for the ready deployments of every account."""
        return {
            name: str(d.model["name"])
            for deployments in self.accounts.values()
            for name, d in deployments.items()
            if d.state() == "Succeeded"
        }

    def account(self, sub: str, rg: str, account: str) -> dict[str, Deployment]:
        """One account's deployments by name (made empty on first use)."""
        return self.accounts.setdefault((sub.lower(), rg.lower(), account.lower()), {})

    def _of(self, request: web.Request) -> dict[str, Deployment]:
        """The deployments of the account the request's path names."""
        return self.account(*account_key(request))

    def install(self, app: web.Application) -> None:
        app.router.add_get(PREFIX, self.list)
        app.router.add_put(PREFIX + "/{name}", self.put)
        app.router.add_get(PREFIX + "/{name}", self.get)
        app.router.add_delete(PREFIX + "/{name}", self.delete)

    def check(self, request: web.Request) -> web.Response | None:
        """ARM's answer to a request without a token or with a bad api-version, if any."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return arm_error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
            )
        self.tokens.append(token.strip())
        version = request.query.get("api-version")
        if not version:
            return arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if version not in API_VERSIONS:
            return arm_error(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{version}' is invalid. The supported versions are "
                f"'{', '.join(API_VERSIONS)}'.",
            )
        return None

    async def list(self, request: web.Request) -> web.Response:
        return web.json_response({"value": [d.body() for d in self._of(request).values()]})

    async def get(self, request: web.Request) -> web.Response:
        deployment = self._of(request).get(request.match_info["name"])
        if deployment is None:
            return self._not_found(request.match_info["name"])
        return web.json_response(deployment.body())

    async def delete(self, request: web.Request) -> web.Response:
        if self._of(request).pop(request.match_info["name"], None) is None:
            return web.Response(status=204)
        return web.Response(status=200)

    async def put(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if not NAME.match(name):
            return arm_error(
                400,
                "InvalidResourceName",
                f"Resource name '{name}' is invalid: use 2 to 64 letters, digits, '.', '-' "
                "or '_', starting with a letter or digit.",
            )
        try:
            body = await request.json()
        except ValueError:
            return arm_error(400, "InvalidRequestContent", "The request content was invalid.")
        sku = body.get("sku") if isinstance(body, dict) else None
        props = body.get("properties") if isinstance(body, dict) else None
        model = props.get("model") if isinstance(props, dict) else None
        if not isinstance(sku, dict) or not isinstance(model, dict) or not model.get("name"):
            return arm_error(
                400,
                "InvalidResourceProperties",
                "The deployment needs sku.name and properties.model (format, name, version).",
            )
        sku_name = SKUS.get(str(sku.get("name", "")).lower())
        if sku_name is None:
            return arm_error(
                400,
                "InvalidResourceProperties",
                f"The specified SKU '{sku.get('name')}' for model deployment is not supported. "
                f"Supported SKUs: {', '.join(SKUS.values())}.",
            )
        capacity = sku.get("capacity", 1)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            return arm_error(
                400, "InvalidCapacity", f"The capacity {capacity!r} should be a positive integer."
            )
        model_name = str(model["name"])
        deployments = self._of(request)
        used = sum(int(d.sku["capacity"]) for n, d in deployments.items() if n != name)
        if used + capacity > QUOTA:
            return arm_error(
                400,
                "InsufficientQuota",
                f"This operation require {capacity} new capacity in quota Tokens Per Minute "
                f"(thousands) - {model_name}, which is bigger than the current available "
                f"capacity {QUOTA - used}. The current quota usage is {used} and the quota "
                f"limit is {QUOTA} for quota Tokens Per Minute (thousands) - {model_name}.",
            )
        if not self.model_exists(model_name):
            return arm_error(
                400,
                "DeploymentModelNotSupported",
                f"The model 'Format:{model.get('format', 'OpenAI')},Name:{model_name},"
                f"Version:{model.get('version', '1')}' of account deployment is not supported.",
            )
        existed = name in deployments
        deployment = Deployment(
            resource_id=request.path,
            name=name,
            sku={"name": sku_name, "capacity": capacity},
            model={
                "format": model.get("format", "OpenAI"),
                "name": model_name,
                "version": str(model.get("version", "1")),
            },
            ready_at=time.monotonic() + PROVISION_SECONDS / self.speed,
        )
        deployments[name] = deployment
        body = deployment.body()
        if not existed:
            body["properties"]["provisioningState"] = "Accepted"
        return web.json_response(body, status=200 if existed else 201)

    def _not_found(self, name: str) -> web.Response:
        return arm_error(
            404,
            "DeploymentNotFound",
            f"The deployment '{name}' was not found in this account.",
        )
