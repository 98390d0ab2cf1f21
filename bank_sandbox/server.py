"""HTTP server, request dispatch, core admin API and the importable :class:`SandboxServer`."""

from __future__ import annotations

import errno
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from collections.abc import Iterable

from .faults import FaultError, Faults
from .http_util import BodyError, Request, Response, Router
from .notifier import Notifier
from .registry import BankModule, load_banks
from .state import StateStore
import contextlib

MAX_BODY = 2 * 1024 * 1024

NGINX_500 = (
    "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
    "<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
NGINX_429 = (
    "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    "<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class PortInUseError(OSError):
    pass


class Clock:
    """Sandbox time = real time + an offset settable through ``/_admin/clock``."""

    def __init__(self, store: StateStore):
        self.store = store

    @property
    def offset(self) -> float:
        with self.store.read() as data:
            return float(data.get("clock_offset", 0.0))

    def now(self) -> float:
        return time.time() + self.offset

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), timezone.utc)


class Sandbox:
    """The application: state, faults, notifier, clock, router and the bank modules."""

    def __init__(
        self,
        state_dir,
        *,
        public_url: str,
        notify_interval: float = 5.0,
        notify_max_attempts: int = 50,
        notify_timeout: float = 10.0,
        terminals=None,
        faults: dict | None = None,
        banks: Iterable[str] | None = None,
        log=None,
    ):
        self.log = log or (lambda line: None)
        self.public_url = public_url.rstrip("/")
        self.store = StateStore(state_dir, log=self.log)
        self.faults = Faults(self.store)
        self.initial_faults = dict(faults or {})
        if self.initial_faults:
            self.faults.set(self.initial_faults)
        self.clock = Clock(self.store)
        self.notifier = Notifier(
            self.store,
            self.faults,
            interval=notify_interval,
            max_attempts=notify_max_attempts,
            timeout=notify_timeout,
            log=self.log,
        )
        self.options: dict[str, Any] = {
            "terminals": terminals,
            "notify_interval": notify_interval,
            "notify_max_attempts": notify_max_attempts,
            "public_url": self.public_url,
        }
        self.router = Router()
        self.started_at = time.time()
        self._register_core()
        self.modules: list[BankModule] = [cls(self) for cls in load_banks(banks)]
        for module in self.modules:
            module.register(self.router)
        self._owners = {m.name: m for m in self.modules}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.notifier.start()
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick_loop, name="bank-sandbox-ticker", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker:
            self._ticker.join(timeout=5)
        self.notifier.stop()
        self.store.compact_all()

    def tick(self) -> None:
        for module in self.modules:
            module.on_tick()

    def _tick_loop(self) -> None:
        while not self._stop.wait(0.25):
            try:
                self.tick()
            except Exception:
                self.log("tick error: " + traceback.format_exc().strip().replace("\n", " | "))

    # -- dispatch ---------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        route, params, allowed = self.router.resolve(request.method, request.path)
        owner = "core"
        if route:
            handler, kind, owner = route.handler, route.kind, route.owner
            request.params = params
        else:
            fallback = self.router.fallback(request.path)
            if fallback:
                handler, kind, owner = fallback
                request.params = {"allowed": ",".join(sorted(set(allowed)))}
            elif allowed:
                return Response.json(
                    {"error": "method not allowed", "allowed": sorted(set(allowed))},
                    405,
                    headers=[("Allow", ", ".join(sorted(set(allowed))))],
                )
            else:
                return Response.json({"error": "not found", "path": request.path}, 404)
        latency = 0
        if kind == "api":
            latency = self.faults.get("latency")
            if latency:
                time.sleep(latency / 1000.0)
            self.faults.maybe_start_burst()
            if self.faults.take("http500"):
                return Response.html(NGINX_500, 500)
            if self.faults.take("http429"):
                response = Response.html(NGINX_429, 429)
                response.headers.append(("Retry-After", "1"))
                return response
        try:
            response = handler(request)
            if latency:
                # says what was injected, so a test need not time the call to know
                response.headers.append(("X-Sandbox-Latency-Ms", str(latency)))
            return response
        except Exception:
            self.log(
                f"internal error in {request.method} {request.path}: "
                + traceback.format_exc().strip().replace("\n", " | ")
            )
            module = self._owners.get(owner)
            if kind == "api" and module is not None:
                return module.internal_error(request)
            return Response.json({"error": "internal error"}, 500)

    # -- core admin API -------------------------------------------------------------------------
    def _register_core(self) -> None:
        add = self.router.add
        add("GET", "/_admin/health", self._health, kind="admin")
        add("GET", "/_admin/state", self._state, kind="admin")
        add("GET", "/_admin/faults", self._faults_get, kind="admin")
        add("POST", "/_admin/faults", self._faults_post, kind="admin")
        add("DELETE", "/_admin/faults", self._faults_delete, kind="admin")
        add("POST", "/_admin/reset", self._reset, kind="admin")
        add("POST", "/_admin/notify/flush", self._flush, kind="admin")
        add("GET", "/_admin/notify/faults", self._notify_faults, kind="admin")
        add("GET", "/_admin/clock", self._clock_get, kind="admin")
        add("POST", "/_admin/clock", self._clock_post, kind="admin")
        self.router.add_fallback("/_admin/", self._admin_not_found, kind="admin")

    @staticmethod
    def _bad_request(message: str, status: int = 400) -> Response:
        return Response.json({"error": message}, status)

    def _admin_not_found(self, request: Request) -> Response:
        if request.params.get("allowed"):
            return Response.json({"error": "method not allowed", "allowed": request.params["allowed"].split(",")}, 405)
        return Response.json({"error": "not found", "path": request.path}, 404)

    def _health(self, request: Request) -> Response:
        return Response.json(
            {
                "status": "ok",
                "url": self.public_url,
                "banks": [m.name for m in self.modules],
                "uptime_seconds": round(time.time() - self.started_at, 3),
                "pending_notifications": len(self.notifier.pending()),
                "faults": self.faults.all(),
            }
        )

    def state_view(self) -> dict:
        with self.store.read() as data:
            base = {
                "faults": self.faults.all(),
                "clock": self._clock_view(),
                "counters": dict(data.get("counters", {})),
            }
        base["pending_notifications"] = self.notifier.pending()
        base["delivery_log"] = self.notifier.delivery_log()
        base["given_up_notifications"] = self.notifier.given_up()
        for module in self.modules:
            base.update(module.admin_state())
        return base

    def _state(self, request: Request) -> Response:
        return Response.json(self.state_view())

    def _faults_get(self, request: Request) -> Response:
        return Response.json({"faults": self.faults.all(), "known": Faults.describe()})

    def _faults_post(self, request: Request) -> Response:
        try:
            body = request.json_object(default_empty=True)
        except BodyError as exc:
            return self._bad_request(f"body must be a JSON object: {exc}")
        body = dict(body.get("faults", body)) if isinstance(body.get("faults"), dict) else dict(body)
        clear = body.pop("clear", None)
        try:
            if clear is True:
                self.faults.clear()
            elif isinstance(clear, list):
                self.faults.clear(clear)
            elif isinstance(clear, str):
                self.faults.clear([clear])
            values = self.faults.set(body)
        except FaultError as exc:
            return self._bad_request(str(exc))
        self.notifier.wake()
        return Response.json({"faults": values})

    def _faults_delete(self, request: Request) -> Response:
        values = self.faults.clear()
        self.notifier.wake()
        return Response.json({"faults": values})

    def reset(self) -> None:
        self.store.replace_all()
        if self.initial_faults:
            self.faults.set(self.initial_faults)
        with self.store.change():
            for module in self.modules:
                self.store.bank(module.name, module.state_defaults)
                module.on_reset()

    def _reset(self, request: Request) -> Response:
        self.reset()
        return Response.json({"status": "ok", "faults": self.faults.all()})

    def _flush(self, request: Request) -> Response:
        results = self.notifier.flush()
        return Response.json(
            {
                "results": results,
                "delivered": sum(1 for r in results if r.get("ok")),
                "pending": len(self.notifier.pending()),
            }
        )

    def _notify_faults(self, request: Request) -> Response:
        """What the faults did, per payment (duplicated, reordered, dropped notifications)
        and in all (bursts and the answers they caused), for a run's end check."""
        with self.store.read() as data:
            counters = dict(data.get("counters", {}))
        return Response.json({"payments": self.notifier.fault_records(), "counters": counters})

    def _clock_view(self) -> dict:
        return {"now": self.clock.now_dt().isoformat(timespec="seconds"), "offset_seconds": self.clock.offset}

    def _clock_get(self, request: Request) -> Response:
        return Response.json(self._clock_view())

    def _clock_post(self, request: Request) -> Response:
        try:
            body = request.json_object(default_empty=True)
        except BodyError as exc:
            return self._bad_request(f"body must be a JSON object: {exc}")
        try:
            with self.store.change() as data:
                offset = float(data.get("clock_offset", 0.0))
                if body.get("reset"):
                    offset = 0.0
                if "offset_seconds" in body:
                    offset = float(body["offset_seconds"])
                if "advance_seconds" in body:
                    offset += float(body["advance_seconds"])
                data["clock_offset"] = offset
        except (TypeError, ValueError):
            return self._bad_request("offset_seconds / advance_seconds must be numbers")
        self.tick()  # expire what the new time has made due, before answering
        return Response.json(self._clock_view())


# -- HTTP layer ------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bank_sandbox/1.0"
    sys_version = ""
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls on keep-alive connections

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format, *args):  # silence the default access log
        pass

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self):
        started = time.perf_counter()
        srv: _HTTPServer = self.server  # type: ignore[assignment]
        split = urllib.parse.urlsplit(self.path)
        path = split.path or "/"
        try:
            body = self._read_body()
        except (ValueError, OSError):
            body = None
            self.close_connection = True
        if srv.sandbox is None or srv.closing:
            response = Response.json({"error": "server is stopping"}, 503)
            self.close_connection = True
        elif body is None:
            response = Response.json(
                {
                    "Success": False,
                    "ErrorCode": "1",
                    "Message": "Слишком большой или нечитаемый запрос / Request body too large or unreadable",
                },
                413,
            )
            self.close_connection = True
        else:
            request = Request(
                self.command,
                path,
                urllib.parse.parse_qs(split.query, keep_blank_values=True),
                self.headers,
                body,
                self.client_address[0],
            )
            try:
                response = srv.sandbox.handle(request)
            except Exception:
                srv.log("unhandled: " + traceback.format_exc().strip().replace("\n", " | "))
                response = Response.json({"error": "internal error"}, 500)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        elapsed = (time.perf_counter() - started) * 1000
        srv.log(f"{self.client_address[0]} {self.command} {path} {response.status} {elapsed:.1f}ms")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, log):
        self.sandbox: Sandbox | None = None
        self.closing = False
        self.log = log
        self._connections: set = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def parse_terminals(values) -> dict:
    """``["KEY:PASSWORD", "KEY:PASSWORD:NOTIFICATION_URL"]`` or a dict → ``{key: {...}}``."""
    if values is None:
        return {"TinkoffBankTest": {"password": "TinkoffBankTest"}}
    if isinstance(values, dict):
        result = {}
        for key, value in values.items():
            result[key] = dict(value) if isinstance(value, dict) else {"password": str(value)}
        return result
    result = {}
    for text in values:
        key, sep, rest = str(text).partition(":")
        if not key or not sep:
            raise ValueError(f"terminal must be KEY:PASSWORD[:NOTIFICATION_URL], got {text!r}")
        password, _, url = rest.partition(":")
        entry = {"password": password}
        if url:
            entry["notification_url"] = url
        result[key] = entry
    return result


class SandboxServer:
    """The bank sandbox, runnable in-process (tests, harnesses) or from the CLI.

    >>> srv = SandboxServer("127.0.0.1", 0, "/tmp/state", notify_interval=0.05).start()
    >>> srv.url           # 'http://127.0.0.1:41234'
    >>> srv.stop()
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir=None,
        *,
        public_url: str | None = None,
        notify_interval: float = 5.0,
        notify_max_attempts: int = 50,
        notify_timeout: float = 10.0,
        terminals=None,
        faults: dict | None = None,
        banks: Iterable[str] | None = None,
        quiet: bool = False,
        log_stream=None,
    ):
        if state_dir is None:
            raise ValueError("state_dir is required")
        self.host = host
        self.port = int(port)
        self.state_dir = state_dir
        self._public_url = public_url
        self.options = {
            "notify_interval": notify_interval,
            "notify_max_attempts": notify_max_attempts,
            "notify_timeout": notify_timeout,
            "terminals": parse_terminals(terminals),
            "faults": dict(faults or {}),
            "banks": banks,
        }
        self.quiet = quiet
        self.log_stream = log_stream
        self._log_lock = threading.Lock()
        self.httpd: _HTTPServer | None = None
        self.sandbox: Sandbox | None = None
        self._thread: threading.Thread | None = None

    # -- logging -----------------------------------------------------------------------------
    def log(self, line: str) -> None:
        if self.quiet:
            return
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        with self._log_lock:
            stream = self.log_stream or sys.stderr
            try:
                stream.write(f"[{stamp}] {line}\n")
                stream.flush()
            except (OSError, ValueError):
                pass

    # -- properties --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def public_url(self) -> str:
        return (self._public_url or self.url).rstrip("/")

    # -- lifecycle ----------------------------------------------------------------------------
    def bind(self) -> None:
        try:
            self.httpd = _HTTPServer((self.host, self.port), self.log)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    exc.errno, f"cannot listen on {self.host}:{self.port}: address already in use"
                ) from None
            raise
        self.port = self.httpd.server_address[1]

    def start(self) -> SandboxServer:
        """Bind, load state, start the notifier and serve on a background thread."""
        if self.httpd is None:
            self.bind()
        opts = self.options
        self.sandbox = Sandbox(
            self.state_dir,
            public_url=self.public_url,
            notify_interval=opts["notify_interval"],
            notify_max_attempts=opts["notify_max_attempts"],
            notify_timeout=opts["notify_timeout"],
            terminals=opts["terminals"],
            faults=opts["faults"],
            banks=opts["banks"],
            log=self.log,
        )
        self.httpd.sandbox = self.sandbox
        self.sandbox.start()
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="bank-sandbox-http", daemon=True
        )
        self._thread.start()
        self.log(
            f"bank_sandbox listening on {self.url} (public {self.public_url}; state {self.state_dir}; "
            f"banks: {', '.join(m.name for m in self.sandbox.modules)})"
        )
        return self

    def stop(self) -> None:
        if self.httpd is None:
            return
        self.httpd.closing = True
        if self._thread:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.close_connections()
        self.httpd.server_close()
        if self.sandbox:
            self.sandbox.stop()
        self.httpd = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- conveniences for in-process harnesses --------------------------------------------------
    @property
    def app(self) -> Sandbox:
        assert self.sandbox is not None, "server not started"
        return self.sandbox
