"""Running the app with uvicorn: in the foreground (``confluens serve``) or on a
background thread (tests, notebooks, benchmarks), on a given or a free port."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from confluens.errors import MissingExtraError

try:
    import uvicorn
except ImportError:  # pragma: no cover - the serve extra is missing
    raise MissingExtraError("serving over HTTP", "serve", "uvicorn") from None

__all__ = ["BackgroundServer", "free_port", "run", "server_config"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def server_config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's settings for the API: the fastest event loop and HTTP parser
    installed (uvloop, httptools), no access log (a line per request costs more than
    scoring it)."""
    options.setdefault("log_level", "warning")
    options.setdefault("access_log", False)
    return uvicorn.Config(app, host=host, port=port, loop="auto", http="auto", **options)


def run(app: Any, host: str, port: int, **options: Any) -> None:
    """Serve until interrupted (Ctrl-C stops it cleanly: queued predictions are
    scored and the prediction log is written first)."""
    uvicorn.Server(server_config(app, host, port, **options)).run()


class BackgroundServer:
    """``app`` served on a thread: ``with BackgroundServer(app) as url: ...``."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None,
                 **options: Any) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.server = uvicorn.Server(server_config(app, self.host, self.port, **options))
        self.thread = threading.Thread(target=self.server.run, daemon=True,
                                       name="confluens-api")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API server did not start on {self.url}")
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
