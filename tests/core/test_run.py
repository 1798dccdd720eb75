"""`xiangyin run` really starts: the console answers on its port, Ctrl-C stops every part cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_serves_console_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    config = (ROOT / "config.yml").read_text(encoding="utf-8").replace("port: 8000", f"port: {port}")
    (tmp_path / "config.yml").write_text(config, encoding="utf-8")
    env = {
        **os.environ,
        "XIANGYIN_CONFIG": str(tmp_path / "config.yml"),
        "XIANGYIN_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "XIANGYIN_AUDIO_DIR": str(tmp_path / "audio"),
        # An external NLU URL nobody answers: run must not train Rasa here, and must not care.
        "RASA_URL": "http://127.0.0.1:9",
    }
    env.pop("XIANGYIN_TELEGRAM_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "console did not come up within 60 s"
                time.sleep(0.3)
        assert page.status_code == 200 and "登录" in page.text
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "no token configured" in out and f"127.0.0.1:{port}" in out
    assert "Traceback" not in out
