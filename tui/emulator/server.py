"""Run the emulator: in-process on an event loop (`Emulator`) or in its own thread
(`EmulatorThread`, for the TUI demo and sync tests)."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

from aiohttp import web

from tui.emulator.app import EmulatorApp
from tui.emulator.azure import AzureFront
from tui.emulator.faults import Faults, specs_from_env
from tui.emulator.http import (
    LOOPBACK,
    RemoteBindRefused,
    ServerThread,
    base_url,
    is_loopback,
    listen,
)
from tui.emulator.store import Store


class Emulator:
    """The OpenAI-compatible server on `host:port` (port 0: a free one).

    `async with Emulator(seed=0, speed=100.0) as emu:` then point a client at `emu.base_url`
    with any non-empty API key. `faults` are fault specs (see `tui.emulator.faults`); the
    `TUNEBENCH_EMULATOR_FAULTS` env var adds more unless `env_faults=False`.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        speed: float = 1.0,
        faults: Iterable[str] = (),
        host: str = LOOPBACK,
        port: int = 0,
        allow_remote: bool = False,
        api_key: str | None = None,
        base64_results: bool = False,
        env_faults: bool = True,
        azure: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise RemoteBindRefused(
                f"refusing to serve on {host}: the emulator has no real authentication; "
                "use a loopback address or pass --allow-remote"
            )
        if speed <= 0:
            raise ValueError("speed must be greater than 0")
        self.host = host
        self.port = port
        self.api_key = api_key
        self.faults = Faults([*faults, *(specs_from_env() if env_faults else [])])
        self._app = EmulatorApp(
            seed=seed,
            speed=speed,
            faults=self.faults,
            api_key=api_key,
            base64_results=base64_results,
        )
        self.azure: AzureFront | None = (
            AzureFront(self._app, api_key=api_key, speed=speed) if azure else None
        )
        self._runner: web.AppRunner | None = None

    @property
    def store(self) -> Store:
        return self._app.store

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the emulator is not running")
        return base_url(self.host, self.port)

    @property
    def root_url(self) -> str:
        """The server's root: an Azure profile's `endpoint` and `arm_url` in --azure mode."""
        return self.base_url.removesuffix("/v1")

    def inject(self, kind: str, count: int = 1, seconds: float = 0.05) -> None:
        """Arm a fault at runtime, e.g. `inject("429", count=2)`; safe from any thread."""
        self.faults.inject(kind, count=count, seconds=seconds)

    def clear_faults(self) -> None:
        self.faults.clear()

    async def start(self) -> str:
        app = self._app.build()
        if self.azure is not None:
            self.azure.install(app)
        self._runner, self.port = await listen(app, self.host, self.port)
        return self.base_url

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self._app.shutdown()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class EmulatorThread(ServerThread[Emulator]):
    """An `Emulator` on its own event loop in a daemon thread.

    `with EmulatorThread(seed=0, speed=20.0) as emu:` gives `emu.base_url` for sync code and
    for an app that runs its own loop; leaving the block stops the server and the thread.
    Takes the same keyword arguments as `Emulator`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Emulator(**kwargs), "tunebench-emulator")
        self.emulator = self.server

    @property
    def base_url(self) -> str:
        return self.emulator.base_url

    @property
    def root_url(self) -> str:
        return self.emulator.root_url

    def inject(self, kind: str, count: int = 1, seconds: float = 0.05) -> None:
        self.emulator.inject(kind, count=count, seconds=seconds)

    def clear_faults(self) -> None:
        self.emulator.clear_faults()
