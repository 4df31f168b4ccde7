"""Model deployments through Azure Resource Manager (the control plane), over aiohttp.

`PUT|GET|DELETE {arm_url}/subscriptions/{sub}/resourceGroups/{rg}/providers/
Microsoft.CognitiveServices/accounts/{account}/deployments/{name}?api-version=2024-10-01`
(the stable Microsoft.CognitiveServices version in azure-rest-api-specs, which Microsoft
Learn's fine-tuning tutorial calls the control plane API version), with a bearer token for
https://management.azure.com. A new deployment is `Accepted`, then `Creating`, then
`Succeeded` (or `Failed`, `Canceled`, `Disabled`). A tuned model answers only once
deployed; Developer tier deployments end on their own after 24 hours.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tui.core.models import tuned_name
from tui.errors import AzureManagementError, UsageError

ARM_API_VERSION = "2024-10-01"
SKUS = {"developer": "DeveloperTier", "standard": "Standard", "globalstandard": "GlobalStandard"}
DEVELOPER_LIFETIME = timedelta(hours=24)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
SNAPSHOT_DATE = re.compile(r"-\d{4}-\d{2}-\d{2}$")
REQUEST_SECONDS = 60.0
TERMINAL = ("Succeeded", "Failed", "Canceled", "Disabled")

if TYPE_CHECKING:
    import aiohttp

TokenProvider = Callable[[], Awaitable[str]]
Sleep = Callable[[float], Awaitable[None]]


def check_name(name: str) -> str:
    """A deployment name ARM accepts, or a UsageError before any request."""
    if not NAME.match(name):
        raise UsageError(
            f"--name {name!r}: a deployment name is 2 to 64 letters, digits, '.', '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def sku_name(choice: str) -> str:
    """The ARM SKU for developer|standard|globalstandard."""
    try:
        return SKUS[choice.lower()]
    except KeyError:
        raise UsageError(f"--sku {choice!r}: choose one of {', '.join(SKUS)}") from None


@dataclass(frozen=True)
class Deployment:
    """One deployment as ARM reports it."""

    name: str
    model: str
    sku: str
    capacity: int | None
    state: str
    created_at: datetime | None

    @classmethod
    def from_arm(cls, body: dict[str, Any]) -> Deployment:
        props = body.get("properties") or {}
        model = props.get("model") or {}
        sku = body.get("sku") or {}
        created = (body.get("systemData") or {}).get("createdAt")
        return cls(
            name=str(body.get("name", "")),
            model=str(model.get("name", "")),
            sku=str(sku.get("name", "")),
            capacity=sku.get("capacity") if isinstance(sku.get("capacity"), int) else None,
            state=str(props.get("provisioningState", "Unknown")),
            created_at=_parse_time(created),
        )

    @property
    def expires_at(self) -> datetime | None:
        """Developer tier deployments are removed 24 hours after they were created."""
        if self.sku != "DeveloperTier" or self.created_at is None:
            return None
        return self.created_at + DEVELOPER_LIFETIME

    def time_left(self, now: datetime) -> str:
        """`22 h 30 min left`, `expired`, or "" for deployments without an end."""
        expires = self.expires_at
        if expires is None:
            return ""
        left = (expires - now).total_seconds()
        if left <= 0:
            return "expired"
        hours, rest = divmod(int(left), 3600)
        return f"{hours} h {rest // 60:02d} min left"

    def lifetime_text(self, now: datetime) -> str:
        left = self.time_left(now)
        if not left:
            return ""
        if left == "expired":
            return "Developer tier: expired"
        return f"Developer tier: ends in {left.removesuffix(' left')} (24-hour lifetime)"


def _parse_time(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


class ArmDeployments:
    """The deployments of one Azure OpenAI resource. Use as `async with`."""

    def __init__(
        self,
        arm_url: str,
        subscription_id: str,
        resource_group: str,
        account: str,
        token: TokenProvider,
    ) -> None:
        self.base = (
            f"{arm_url.rstrip('/')}/subscriptions/{quote(subscription_id)}"
            f"/resourceGroups/{quote(resource_group)}/providers/Microsoft.CognitiveServices"
            f"/accounts/{quote(account)}/deployments"
        )
        self.arm_url = arm_url
        self._token = token
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ArmDeployments:
        import aiohttp  # here, not at import: the app starts without it

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_SECONDS))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(
        self, method: str, name: str | None, action: str, body: Any = None
    ) -> tuple[int, Any]:
        import aiohttp

        if self._session is None:
            raise RuntimeError("use ArmDeployments with `async with`")
        url = self.base if name is None else f"{self.base}/{quote(name)}"
        headers = {"Authorization": f"Bearer {await self._token()}"}
        try:
            async with self._session.request(
                method, url, params={"api-version": ARM_API_VERSION}, json=body, headers=headers
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UsageError(
                f"{action}: cannot reach Azure Resource Manager at {self.arm_url} "
                f"({type(exc).__name__}); check the network or the profile's arm_url"
            ) from None
        data: Any = None
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
        if status >= 400:
            error = (data or {}).get("error") if isinstance(data, dict) else None
            error = error if isinstance(error, dict) else {}
            raise AzureManagementError(
                status,
                str(error.get("code") or status),
                str(error.get("message") or raw[:200].decode("utf-8", "replace")),
                action=action,
            )
        return status, data

    async def create(self, model: str, name: str, sku: str, capacity: int) -> Deployment:
        body = {
            "sku": {"name": sku, "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}},
        }
        _status, data = await self._call("PUT", name, f"deploy {model} as {name}", body)
        return Deployment.from_arm(data or {"name": name})

    async def get(self, name: str) -> Deployment | None:
        try:
            _status, data = await self._call("GET", name, f"deployment {name}")
        except AzureManagementError as exc:
            if exc.status == 404:
                return None
            raise
        return Deployment.from_arm(data or {})

    async def list(self) -> list[Deployment]:
        _status, data = await self._call("GET", None, "list deployments")
        values = data.get("value", []) if isinstance(data, dict) else []
        return [Deployment.from_arm(v) for v in values if isinstance(v, dict)]

    async def delete(self, name: str) -> bool:
        """True if it existed (ARM answers 204 for a name it does not know)."""
        status, _data = await self._call("DELETE", name, f"delete deployment {name}")
        return status != 204

    async def wait(
        self,
        name: str,
        *,
        interval: float,
        timeout: float,
        on_state: Callable[[Deployment, float], None] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> Deployment:
        """Poll until the deployment is Succeeded/Failed/Canceled; the wait grows from
        `interval` to 15 s, and gives up after `timeout` seconds (the deployment goes on)."""
        started = time.monotonic()
        wait = interval
        while True:
            deployment = await self.get(name)
            if deployment is None:
                raise UsageError(f"deployment {name}: gone while waiting for it (deleted?)")
            elapsed = time.monotonic() - started
            if on_state is not None:
                on_state(deployment, elapsed)
            if deployment.state in TERMINAL:
                return deployment
            if elapsed + wait > timeout:
                raise UsageError(
                    f"deployment {name}: still {deployment.state} after {elapsed:.0f} s; "
                    f"it goes on in Azure: check it with `tunebench deployments list`",
                    exit_code=1,
                )
            await sleep(wait)
            wait = min(wait * 1.5, 15.0)


def default_name(model: str) -> str:
    """A deployment name for a tuned model: its suffix and id (`grammar-AbCd1234`), a
    checkpoint's step (`grammar-AbCd1234-step-207`), or Azure's `gpt-4.1-mini-ft-1a2b3c4d`
    (`gpt-4.1-mini-ft-1a2b3c4d-step-90` for a checkpoint)."""
    tuned = tuned_name(model)
    if model.startswith("ft:"):
        parts = [p for p in model.split(":")[3:] if p]
        raw = "-".join(p.replace("ckpt-step-", "step-") for p in parts) or model
    elif tuned is not None:
        family = SNAPSHOT_DATE.sub("", tuned.base)
        raw = f"{family}-{tuned.label}" + (f"-step-{tuned.step}" if tuned.step else "")
    else:
        raw = model
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-._")[:64]
    return name if NAME.match(name) else "tuned-model"


@dataclass
class DeploymentBook:
    """The Azure deployments the app last saw: the Jobs screens, the deployments list and
    the Playground share this one object (owned by the App)."""

    deployments: list[Deployment] = field(default_factory=list)
    loaded: bool = False

    def replace(self, found: list[Deployment]) -> None:
        self.deployments = list(found)
        self.loaded = True

    def upsert(self, deployment: Deployment) -> None:
        self.deployments = [d for d in self.deployments if d.name != deployment.name]
        self.deployments.append(deployment)

    def remove(self, name: str) -> None:
        self.deployments = [d for d in self.deployments if d.name != name]

    def named(self, name: str) -> Deployment | None:
        return next((d for d in self.deployments if d.name == name), None)

    def serving(self, model: str) -> Deployment | None:
        """A ready deployment of `model`, if there is one."""
        return next(
            (d for d in self.deployments if d.model == model and d.state == "Succeeded"), None
        )
