"""The Rasa sidecar as a runtime service: train if needed, run, watch, restart, stop.

`RasaSidecar(config)` follows `core.app.RuntimeService` (name, start, stop) and has `url`.

- Trained models are cached by fingerprint (nlu/generate.py) in
  `~/.cache/xiangyin/rasa-models/<fingerprint>.tar.gz` (XIANGYIN_RASA_MODELS overrides), so a
  second run, a test session or another checkout with the same data never retrains.  A file
  lock makes concurrent sessions wait for one training instead of running two.
- `rasa run --enable-api` listens on 127.0.0.1:<nlu.port>; start() returns once `GET /`
  answers and `GET /status` names a loaded model.
- A watchdog restarts the server when it dies (with back-off); stop() ends it (SIGTERM, then
  SIGKILL) and its whole process group.
- Once a gated retrain (nlu/retrain.py) has accepted new labels, the watchdog of every worker
  loads the model of the new data (trained and cached by the retrain): a restart and every worker
  then serve it, not the model the sidecar started with.
- With `nlu.url` set (env RASA_URL) an external server is used and nothing is started.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import logging
import os
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

from core.config import PROJECT_ROOT, AppConfig
from core.tasks import cancel_and_wait
from nlu.examples import reviewed_path
from nlu.generate import BUILD_ROOT, COMPONENTS_DIR, Build, build, fingerprint, render

log = logging.getLogger(__name__)

LOG_DIR = PROJECT_ROOT / "var" / "log"


class SidecarError(RuntimeError):
    """The sidecar cannot be set up (no Rasa venv, training failed, never became healthy)."""


def rasa_venv() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "xiangyin" / "rasa-3.6.21-py3.10"
    return Path(os.environ.get("XIANGYIN_RASA_VENV", default))


def model_cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "xiangyin" / "rasa-models"
    return Path(os.environ.get("XIANGYIN_RASA_MODELS", default))


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",  # no phoning home; there is no internet anyway
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONWARNINGS="ignore",
        # The machine has 2 shared cores; TensorFlow would otherwise spawn a pool per core type.
        TF_NUM_INTEROP_THREADS="1",
        OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "2"),
        # Our own pipeline components (nlu/config.yml names them by module), for train and run.
        PYTHONPATH=os.pathsep.join(filter(None, [str(COMPONENTS_DIR), env.get("PYTHONPATH")])),
    )
    return env


def rasa_executable() -> Path:
    exe = rasa_venv() / "bin" / "rasa"
    if not exe.exists():
        raise SidecarError(
            f"Rasa is not installed at {exe}. Run `bash scripts/setup_rasa.sh` (needs Python 3.10), "
            "or set RASA_URL to an external Rasa server (Docker: rasa/rasa:3.6.21-full)."
        )
    return exe


async def _run(cmd: list[str], *, cwd: Path, log_path: Path) -> int:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=cwd, env=rasa_env(), stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True
        )
        try:
            return await proc.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            raise


async def ensure_model(config: AppConfig) -> tuple[Path, Build, float | None]:
    """The trained model for the current data: (path, build, training seconds or None if cached)."""
    b = build(config)
    model, seconds = await ensure_model_for(b, model_cache_dir())
    return model, b, seconds


async def ensure_model_for(b: Build, cache: Path) -> tuple[Path, float | None]:
    """The model of build `b` in the cache dir `cache`, trained if missing: (path, seconds or None)."""
    cache.mkdir(parents=True, exist_ok=True)
    model = cache / f"{b.fingerprint}.tar.gz"
    if model.exists():
        _touch_and_prune(model)
        return model, None
    lock_path = cache / f"{b.fingerprint}.lock"
    with lock_path.open("w") as lock:
        # Another session may be training the same data: wait for it (in a thread, the event
        # loop keeps running), then use its model.
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        try:
            if model.exists():
                return model, None
            started = time.monotonic()
            seconds = await _train(b, model)
            _touch_and_prune(model)
            log.info("nlu: trained Rasa model %s in %.0fs", b.fingerprint, time.monotonic() - started)
            return model, seconds
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


KEEP_MODELS = 5


def _touch_and_prune(model: Path) -> None:
    """Mark the model as used and keep only the KEEP_MODELS most recently used (~20 MB each),
    and their build dirs; whatever is dropped is simply retrained if its data comes back."""
    model.touch()
    models = sorted(model.parent.glob("*.tar.gz"), key=lambda m: m.stat().st_mtime, reverse=True)
    for old in models[KEEP_MODELS:]:
        old.unlink(missing_ok=True)
        (model.parent / f"{old.name.removesuffix('.tar.gz')}.lock").unlink(missing_ok=True)
        shutil.rmtree(BUILD_ROOT / old.name.removesuffix(".tar.gz"), ignore_errors=True)


async def _train(b: Build, model: Path) -> float:
    exe = rasa_executable()
    out_dir = model.parent / f".training-{b.fingerprint}-{os.getpid()}"
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / "rasa-train.log"
    started = time.monotonic()
    log.info("nlu: training the Rasa model (data changed or not cached yet); log: %s", log_path)
    try:
        code = await _run(
            [
                str(exe), "train", "nlu",
                "--config", "config.yml", "--nlu", "data", "--domain", "domain.yml",
                "--out", str(out_dir), "--fixed-model-name", b.fingerprint,
            ],
            cwd=b.path,
            log_path=log_path,
        )  # fmt: skip
        produced = out_dir / f"{b.fingerprint}.tar.gz"
        if code != 0 or not produced.exists():
            raise SidecarError(f"Rasa training failed (exit {code}); see {log_path}")
        os.replace(produced, model)  # atomic: a half-written model is never picked up
    finally:
        for leftover in out_dir.glob("*"):
            leftover.unlink(missing_ok=True)
        out_dir.rmdir()
    return time.monotonic() - started


async def put_model(base_url: str, model: Path, timeout: float = 600.0) -> None:
    """Make a running Rasa server load `model` (Rasa's HTTP API: `PUT /model`, 204 when loaded)."""
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as http:
        reply = await http.put(f"{base_url.rstrip('/')}/model", json={"model_file": str(model.resolve())})
    if reply.status_code != 204:
        raise SidecarError(f"Rasa at {base_url} refused the model {model.name} (HTTP {reply.status_code})")


def local_config(config: AppConfig) -> AppConfig:
    """The config with no external Rasa URL: a sidecar of our own is really started."""
    return config.model_copy(update={"nlu": config.nlu.model_copy(update={"url": None})})


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def free_port() -> int:
    """A TCP port nothing listens on right now (for a sidecar when the configured one is taken)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the app dies, so no orphan keeps the port."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class RasaSidecar:
    """Runs `rasa run --enable-api` for the app (or points at RASA_URL)."""

    name = "rasa"

    def __init__(
        self,
        config: AppConfig,
        *,
        port: int | None = None,
        model: Path | None = None,
        workers: int | None = None,
        startup_timeout: float = 180.0,
        watchdog_interval: float = 2.0,
    ) -> None:
        self.config = config
        self._fixed_model = model  # serve this model instead of the one of the current data
        self.external = config.nlu.url
        self.port = port or config.nlu.port
        self.startup_timeout = startup_timeout
        self.watchdog_interval = watchdog_interval
        self.model: Path | None = None
        self.training_seconds: float | None = None
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._stopping = False
        self._adopted = False  # using a healthy sidecar we found running, not our child
        self._log_path = LOG_DIR / f"rasa-{self.port}.log"
        # Rasa answers on one core (one Python process); more workers are more processes
        # serving the same model, each its own sidecar on the next free port.
        self.workers = workers or config.nlu.workers
        self._siblings: list[RasaSidecar] = []
        self._reviewed_stamp: float | None = None  # the accepted review export this model includes
        self._export_model: tuple[float | None, Path] | None = None  # a newer export's model path

    @property
    def url(self) -> str:
        """The server(s) to parse with; several workers are listed comma-separated (NluClient)."""
        if self.external:
            return self.external.rstrip("/")
        return ",".join([self._own_url, *(s._own_url for s in self._siblings)])

    @property
    def _own_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.returncode is None else None

    async def start(self) -> None:
        if self.external:
            log.info("nlu: using the external Rasa server at %s", self.external)
            if not await self.healthy():
                log.warning("nlu: external Rasa server at %s is not answering yet", self.external)
            return
        self._stopping = False
        self._reviewed_stamp = _mtime(reviewed_path())
        if self._fixed_model is not None:
            self.model = self._fixed_model
        else:
            self.model, _, self.training_seconds = await ensure_model(self.config)
        await self._spawn()
        self._watchdog = asyncio.create_task(self._watch(), name="rasa-watchdog")
        try:
            for _ in range(self.workers - 1):
                sibling = RasaSidecar(
                    self.config,
                    port=free_port(),
                    model=self._fixed_model,  # else the data's model, cached by now: siblings follow retrains too
                    workers=1,
                    watchdog_interval=self.watchdog_interval,
                )
                self._siblings.append(sibling)
                await sibling.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        self._stopping = True
        siblings, self._siblings = self._siblings, []
        for sibling in siblings:
            await sibling.stop()
        await cancel_and_wait(self._watchdog)
        self._watchdog = None
        await self._kill()

    async def healthy(self, timeout: float = 2.0) -> bool:
        """`GET /` answers and `GET /status` names a loaded model."""
        return bool(await self._loaded_model(timeout))

    async def _loaded_model(self, timeout: float = 2.0) -> str | None:
        try:
            base = self.external.rstrip("/").split(",")[0] if self.external else self._own_url
            async with httpx.AsyncClient(timeout=timeout, trust_env=False) as http:
                root = await http.get(f"{base}/")
                status = await http.get(f"{base}/status")
            if root.status_code != 200 or status.status_code != 200:
                return None
            model = status.json().get("model_file")
            return str(model) if model else None
        except (httpx.HTTPError, ValueError, AttributeError):
            return None

    # ------------------------------------------------------------ process handling
    async def _spawn(self) -> None:
        assert self.model is not None
        if await self.port_taken():
            # A sidecar left over from a run that was killed (or started by `xiangyin nlu
            # serve`) with exactly our model is as good as our own: use it, and watch it.
            loaded = await self._loaded_model()
            if loaded and Path(loaded).name == self.model.name:
                log.info("nlu: a Rasa with the current model already runs on port %d; using it", self.port)
                self._adopted = True
                return
            raise SidecarError(f"port {self.port} is already in use; stop whatever listens there or change nlu.port")
        self._adopted = False
        exe = rasa_executable()
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        out = self._log_path.open("ab")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                str(exe), "run", "--enable-api",
                "--model", str(self.model),
                "--interface", "127.0.0.1", "--port", str(self.port),
                cwd=PROJECT_ROOT, env=rasa_env(), stdout=out, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() ends its children too
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        finally:
            out.close()
        log.info("nlu: started Rasa (pid %d) on port %d; log: %s", self._proc.pid, self.port, self._log_path)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.returncode is not None:
                raise SidecarError(f"Rasa exited with code {self._proc.returncode}; see {self._log_path}")
            if await self.healthy(timeout=1.0):
                return
            await asyncio.sleep(0.5)
        await self._kill()
        raise SidecarError(f"Rasa did not become healthy within {self.startup_timeout:.0f}s; see {self._log_path}")

    async def port_taken(self) -> bool:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        writer.close()
        return True

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout=10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        log.info("nlu: Rasa stopped")

    async def _follow_accepted_model(self) -> None:
        """Serve the current data's model once a retrain accepted new labels (it rewrites the
        accepted export, then caches that data's model): one stat a tick, a render only on change."""
        if self._fixed_model is not None or self.model is None:
            return
        stamp = _mtime(reviewed_path())
        if stamp == self._reviewed_stamp:
            return
        if self._export_model is None or self._export_model[0] != stamp:
            self._export_model = (stamp, model_cache_dir() / f"{fingerprint(render(self.config))}.tar.gz")
        model = self._export_model[1]
        if not model.exists():
            return  # not trained yet (the export changed without a retrain): look again next tick
        self._reviewed_stamp = stamp
        if model == self.model:
            return
        loaded = await self._loaded_model()
        # The retrain's own swap (nlu/retrain.py) may have loaded it already: not twice.
        if (self.pid is not None or self._adopted) and not (loaded and Path(loaded).name == model.name):
            await put_model(self._own_url, model)
        log.info("nlu: now serving the retrained model %s (was %s)", model.name, self.model.name)
        self.model = model

    async def _watch(self) -> None:
        backoff = 1.0
        while not self._stopping:
            await asyncio.sleep(self.watchdog_interval)
            try:
                await self._follow_accepted_model()
            except (OSError, ValueError, httpx.HTTPError, SidecarError) as exc:
                log.warning("nlu: could not load the retrained model: %s", type(exc).__name__)
            if self._stopping or (self._proc is not None and self._proc.returncode is None):
                continue
            if self._adopted and await self.healthy():
                continue
            code = self._proc.returncode if self._proc else None
            log.warning("nlu: Rasa died (exit %s); restarting in %.0fs", code, backoff)
            await asyncio.sleep(backoff)
            try:
                await self._spawn()
                self.restarts += 1
                backoff = 1.0
            except SidecarError as exc:
                log.error("nlu: restarting Rasa failed: %s", exc)
                backoff = min(backoff * 2, 60.0)
