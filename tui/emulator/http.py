"""The HTTP layer the emulator and `tunebench serve` share: OpenAI's route table, the
middleware that turns every failure into OpenAI's error body, request ids, listening on a
socket (loopback unless allowed), a server on its own event loop in a thread, and a server
command's run until Ctrl+C or SIGTERM.

Each server brings its handlers (an object with a method per route name in `ROUTES`) and
its own extra routes and middlewares (the emulator's faults and rate headers, serve's key
check and pre-flight route).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from aiohttp import web
from aiohttp.typedefs import Middleware

from tui.emulator.errors import ApiError
from tui.emulator.wire import error_response
from tui.errors import UsageError

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LOOPBACK = "127.0.0.1"
SHUTDOWN_SECONDS = 1.0
MAX_UPLOAD = 512 * 1024 * 1024
REQUEST_ID = web.RequestKey("request_id", str)
STARTED = web.RequestKey("started", float)

# (method, path, handler name): the files, fine-tuning jobs, models and chat routes.
ROUTES = (
    ("POST", "/v1/files", "create_file"),
    ("GET", "/v1/files", "list_files"),
    ("GET", "/v1/files/{file_id}", "retrieve_file"),
    ("DELETE", "/v1/files/{file_id}", "delete_file"),
    ("GET", "/v1/files/{file_id}/content", "file_content"),
    ("POST", "/v1/fine_tuning/jobs", "create_job"),
    ("GET", "/v1/fine_tuning/jobs", "list_jobs"),
    ("GET", "/v1/fine_tuning/jobs/{job_id}", "retrieve_job"),
    ("POST", "/v1/fine_tuning/jobs/{job_id}/cancel", "cancel_job"),
    ("POST", "/v1/fine_tuning/jobs/{job_id}/pause", "pause_job"),
    ("POST", "/v1/fine_tuning/jobs/{job_id}/resume", "resume_job"),
    ("GET", "/v1/fine_tuning/jobs/{job_id}/events", "list_events"),
    ("GET", "/v1/fine_tuning/jobs/{job_id}/checkpoints", "list_checkpoints"),
    ("GET", "/v1/models", "list_models"),
    ("GET", "/v1/models/{model:.+}", "retrieve_model"),  # HF ids hold a slash
    ("DELETE", "/v1/models/{model:.+}", "delete_model"),
    ("POST", "/v1/chat/completions", "chat_completions"),
)


class RemoteBindRefused(ValueError):
    """Binding to a non-loopback address without leave to."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex


def openai_app(handlers: object, middlewares: list[Middleware], label: str) -> web.Application:
    """An application with OpenAI's routes on `handlers`' methods, behind the error
    middleware (outermost) and `middlewares`; every response carries an `x-request-id`."""
    app = web.Application(middlewares=[api_errors(label), *middlewares], client_max_size=MAX_UPLOAD)
    app.on_response_prepare.append(_request_id_header)
    for method, path, name in ROUTES:
        app.router.add_route(method, path, getattr(handlers, name))
    return app


async def _request_id_header(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["x-request-id"] = request.get(REQUEST_ID) or new_request_id()


def api_errors(label: str) -> Middleware:
    """Every failure as OpenAI's error body: the handlers' ApiError, aiohttp's 404/405/413,
    and any bug as a logged 500 (`label` names the server in the log)."""

    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[REQUEST_ID] = new_request_id()
        request[STARTED] = time.monotonic()
        try:
            return await handler(request)
        except ApiError as error:
            return error_response(error)
        except web.HTTPNotFound:
            return error_response(ApiError(404, f"Invalid URL ({request.method} {request.path})"))
        except web.HTTPMethodNotAllowed:
            return error_response(
                ApiError(405, f"Invalid method for URL ({request.method} {request.path})")
            )
        except web.HTTPRequestEntityTooLarge:
            return error_response(ApiError(413, "File is too large (limit 512 MB)."))
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return error_response(ApiError(exc.status, exc.reason))
        except Exception:  # any bug becomes the API's 500 body, and is logged
            log.exception("%s: unhandled error on %s %s", label, request.method, request.path)
            return error_response(
                ApiError(
                    500,
                    "The server had an error while processing your request.",
                    type="server_error",
                )
            )

    return errors


async def listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (port 0: a free one); the runner to clean up, and the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner, sock.getsockname()[1]


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


class Server(Protocol):
    """What runs on a `ServerThread` (and under `tunebench emulator` / `serve`)."""

    host: str
    port: int

    async def start(self) -> str: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=Server)


class ServerThread(Generic[S]):
    """`server` on its own event loop in a daemon thread, for sync code and for an app that
    runs its own loop: `with EmulatorThread(...) as emu: emu.base_url`. Leaving the block
    stops the server, then the loop and the thread."""

    def __init__(self, server: S, name: str) -> None:
        self.server = server
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        """Run a coroutine on the server's loop (e.g. to read its store); its result."""
        if self._loop is None:
            coroutine.close()
            raise RuntimeError(f"{self._name} is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def start(self, timeout: float = 60.0) -> str:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            return str(self.call(self.server.start(), timeout))
        except BaseException:
            self._stop_loop()
            raise

    def stop(self, timeout: float = 60.0) -> None:
        if self._loop is None:
            return
        try:
            self.call(self.server.stop(), timeout)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def run_until_signal(server: Server, announce: Callable[[str], None]) -> None:
    """`tunebench emulator` / `serve`: start `server`, `announce` its URL, serve until SIGINT
    or SIGTERM, then stop it. A port that cannot be had is one line (exit 2)."""
    try:
        url = await server.start()
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {server.host}:{server.port}: {exc.strerror or exc}"
        ) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    announce(url)
    try:
        await stop.wait()
    finally:
        await server.stop()
