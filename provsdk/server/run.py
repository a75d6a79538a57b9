"""Running the server: in the foreground for ``provsdk serve``, or in a thread for tests."""

from __future__ import annotations

import contextlib
import copy
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from provsdk.server.access_log import ACCESS_LOGGER
from provsdk.server.app import create_app
from provsdk.server.config import ServerConfig, check_host
from provsdk.server.generations import Generations, load_credentials

__all__ = ["ServerThread", "serve"]


def _logging_config() -> dict[str, Any]:
    """uvicorn's logging, plus ours on stderr: an access line per request, and the server's
    warnings. Neither propagates to the root logger, so nothing is written twice."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["provsdk_access"] = {
        "()": "provsdk.server.access_log.UtcFormatter",
        "fmt": "%(asctime)s %(message)s",
    }
    config["handlers"]["provsdk_access"] = {
        "class": "logging.StreamHandler",
        "formatter": "provsdk_access",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["provsdk.server"] = {
        "handlers": ["default"],
        "level": "WARNING",
        "propagate": False,
    }
    config["loggers"][ACCESS_LOGGER] = {
        "handlers": ["provsdk_access"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def _uvicorn_config(
    app: FastAPI, host: str = "127.0.0.1", port: int = 0, *, configure_logging: bool = True
) -> uvicorn.Config:
    # uvicorn's access log stays off: ours replaces it, naming the account and the request id
    # instead of the client's request line (whose query string may hold a secret). Otherwise
    # warnings and errors only.
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
        log_config=_logging_config() if configure_logging else None,
    )


def serve(config: ServerConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until interrupted, logging one line per request to stderr. Raises
    ConfigurationError first when ``host`` is not loopback and authentication is off,
    CredentialError when a signing key is missing."""
    check_host(host, insecure_no_auth=config.insecure_no_auth)
    # Load the keys before uvicorn starts, so a missing one is our one-line error rather than
    # a startup traceback in uvicorn's log.
    load_credentials(config.home)
    uvicorn.Server(_uvicorn_config(create_app(config), host=host, port=port)).run()


class ServerThread:
    """A server on 127.0.0.1 and a free port, in a background thread, for a ``with`` block.

    ``url`` is its base URL once entered; ``app`` is the FastAPI app (its ``state.generations``
    is the job table). Leaving the block stops the server and waits for running jobs.
    """

    def __init__(self, config: ServerConfig, *, startup_timeout: float = 20.0) -> None:
        self.config = config
        self.app = create_app(config)
        self._timeout = startup_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def generations(self) -> Generations:
        service: Generations = self.app.state.generations
        return service

    def __enter__(self) -> ServerThread:
        load_credentials(self.config.home)  # fail here, in the caller's thread, not in uvicorn
        # Bind first, so the port is known and taken before the server thread starts.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self._socket = sock
        port = sock.getsockname()[1]
        # log_config=None: leave the logging of the process that hosts us as it was.
        self._server = uvicorn.Server(_uvicorn_config(self.app, configure_logging=False))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="provsdk-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._stop()
                raise RuntimeError("the provsdk server did not start (see its log)")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=60)
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
