"""`xiangyin run` with WeChat credentials in the environment serves the callback (and without
them says so and runs the rest: tests/core/test_run.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.peers.wechat import APP_ID, APP_SECRET, TOKEN, FakeWeChat
from tests.wechat.conftest import RESIDENT, free_port

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.slow]  # the whole app in a subprocess
ROOT = Path(__file__).resolve().parents[2]


async def test_run_serves_the_wechat_callback(fake_wechat: FakeWeChat, tmp_path: Path) -> None:
    web_port, wechat_port = free_port(), free_port()
    config = (ROOT / "config.yml").read_text(encoding="utf-8").replace("port: 8000", f"port: {web_port}")
    config += f"\nwechat:\n  port: {wechat_port}\n"
    (tmp_path / "config.yml").write_text(config, encoding="utf-8")
    env = {
        **os.environ,
        "XIANGYIN_CONFIG": str(tmp_path / "config.yml"),
        "XIANGYIN_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "XIANGYIN_AUDIO_DIR": str(tmp_path / "audio"),
        "RASA_URL": "http://127.0.0.1:9",  # nobody answers: the bot works with its menu
        "XIANGYIN_WECHAT_APP_ID": APP_ID,
        "XIANGYIN_WECHAT_APP_SECRET": APP_SECRET,
        "XIANGYIN_WECHAT_TOKEN": TOKEN,
        "XIANGYIN_WECHAT_BASE_URL": fake_wechat.base_url,
    }
    env.pop("XIANGYIN_TELEGRAM_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    fake_wechat.callback_url = f"http://127.0.0.1:{wechat_port}/wechat"
    try:
        deadline = time.monotonic() + 90
        while fake_wechat.menu is None:  # the custom menu is created once the channel is up
            assert proc.returncode is None and time.monotonic() < deadline, "the WeChat channel did not start"
            await asyncio.sleep(0.3)
        assert await fake_wechat.verify_url() == (200, True)
        delivery = await fake_wechat.send_text(RESIDENT, "我想找人理个发")
        assert delivery.statuses == [200]
        # Passive, or through the customer-service API when this shared machine is slow.
        (answer,) = await fake_wechat.wait_for(lambda: fake_wechat.to(RESIDENT))
        assert "哪个村" in answer.text and "东山村" in answer.labels
        proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode()
    assert proc.returncode == 0, text
    assert f"127.0.0.1:{wechat_port}/wechat" in text and "no token configured" in text
    assert "WeChat official account not started" not in text and "Traceback" not in text
