"""Run `serve`: in-process on an event loop (`Serve`) or in its own thread (`ServeThread`,
for sync tests and the benchmark). Loopback only unless `allow_remote` and an API key."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from tui.emulator.http import (
    LOOPBACK,
    RemoteBindRefused,
    ServerThread,
    base_url,
    is_loopback,
    listen,
)
from tui.serve.app import ServeApp
from tui.serve.bases import base_models
from tui.serve.generate import Engine
from tui.serve.runner import JobRunner, TrainSettings
from tui.serve.store import Store


class Serve:
    """The trainer server on `host:port` (port 0: a free one), state under `data_dir`."""

    def __init__(
        self,
        *,
        models: Iterable[str],
        data_dir: Path,
        host: str = LOOPBACK,
        port: int = 0,
        device: str = "auto",
        accelerate_config: str | None = None,
        api_key: str | None = None,
        allow_remote: bool = False,
    ) -> None:
        if not is_loopback(host) and not (allow_remote and api_key):
            raise RemoteBindRefused(
                f"refusing to serve on {host}: a non-loopback address needs --allow-remote and "
                "an API key from --api-key-env (or use an SSH tunnel to 127.0.0.1)"
            )
        self.host, self.port = host, port
        self.bases = base_models(models)
        if not self.bases:
            raise ValueError("give at least one --model")
        data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(data_dir)
        self.runner = JobRunner(self.store, self.bases, TrainSettings(device, accelerate_config))
        self.engine = Engine(device)
        self._app = ServeApp(self.store, self.bases, self.runner, self.engine, api_key)
        self._web: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return base_url(self.host, self.port)

    async def start(self) -> str:
        self.runner.recover()
        self._web, self.port = await listen(self._app.build(), self.host, self.port)
        return self.base_url

    async def stop(self) -> None:
        if self._web is None:
            return
        await self.runner.shutdown()
        await self._web.cleanup()
        self._web = None
        self.store.close()

    async def __aenter__(self) -> Serve:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class ServeThread(ServerThread[Serve]):
    """A `Serve` on its own event loop in a daemon thread (same keyword arguments)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Serve(**kwargs), "tunebench-serve")
        self.serve = self.server

    @property
    def base_url(self) -> str:
        return self.serve.base_url
