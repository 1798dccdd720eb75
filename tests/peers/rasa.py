"""A live, trained Rasa sidecar for tests and benchmarks (any room), shared by the whole test session.

    from tests.peers.rasa import running_sidecar, shared_sidecar

    with running_sidecar(config) as sidecar:      # own server, stopped at the end
        url = sidecar.url
    url = shared_sidecar(config).url              # one per process and config, stopped at exit

The model is trained once per data fingerprint and cached on disk (see nlu.sidecar), so a
test session normally only pays the server start (~30 s).  The server runs on a free port in
a background thread with its own event loop, so sync and async tests, whatever their event
loop scope, can use it.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

from core.config import AppConfig, load_config
from nlu.generate import fingerprint, render
from nlu.sidecar import RasaSidecar, free_port, local_config

STARTUP_TIMEOUT = 600.0  # seconds; measured 258 s for a model load on a loaded 2-core machine


class _LoopThread:
    """An event loop in a daemon thread: the sidecar's watchdog lives there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="rasa-sidecar-loop", daemon=True)
        self.thread.start()

    def run(self, coro: object) -> object:
        future: Future[object] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        return future.result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


class ThreadedSidecar:
    def __init__(self, config: AppConfig, port: int | None = None, model: Path | None = None) -> None:
        local = local_config(config)
        self._loop = _LoopThread()
        # A shared test machine can be slow to load TensorFlow: wait longer than the app does.
        self.sidecar = RasaSidecar(local, port=port or free_port(), model=model, startup_timeout=STARTUP_TIMEOUT)

    @property
    def url(self) -> str:
        return self.sidecar.url

    def start(self) -> ThreadedSidecar:
        try:
            self._loop.run(self.sidecar.start())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        try:
            self._loop.run(self.sidecar.stop())
        finally:
            self._loop.close()


@contextmanager
def running_sidecar(config: AppConfig | None = None) -> Iterator[RasaSidecar]:
    """Start a trained sidecar on a free port for the duration of the block."""
    threaded = ThreadedSidecar(config or load_config()).start()
    try:
        yield threaded.sidecar
    finally:
        threaded.stop()


_SHARED: dict[str, ThreadedSidecar] = {}
_SHARED_LOCK = threading.Lock()


def shared_sidecar(config: AppConfig | None = None) -> RasaSidecar:
    """One sidecar per process and data fingerprint, stopped when the process exits."""
    config = config or load_config()
    key = fingerprint(render(config))
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = ThreadedSidecar(config).start()
            if len(_SHARED) == 1:
                atexit.register(stop_shared)
        return _SHARED[key].sidecar


def stop_shared() -> None:
    with _SHARED_LOCK:
        for threaded in _SHARED.values():
            threaded.stop()
        _SHARED.clear()
