"""After a gated retrain accepts new labels, every worker of a running sidecar serves the new
data's model (nlu/sidecar.py `_follow_accepted_model`), and a restart uses it too — not the model
the sidecar started with.  The retrained model is stood in for by a copy of the current one under
the new data's fingerprint: what is tested is which file each Rasa server loads."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import httpx
import pytest

from core.config import load_config
from nlu.generate import fingerprint, render
from nlu.sidecar import RasaSidecar, ensure_model, free_port, local_config

pytestmark = pytest.mark.rasa


async def _served(url: str) -> str:
    async with httpx.AsyncClient(timeout=5, trust_env=False) as http:
        return str((await http.get(f"{url}/status")).json().get("model_file", ""))


async def test_every_worker_follows_the_accepted_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = local_config(load_config(environ={}))
    current, _, _ = await ensure_model(config)  # the session's cached model: no training
    models, reviewed = tmp_path / "models", tmp_path / "review" / "examples.yml"
    models.mkdir()
    monkeypatch.setenv("XIANGYIN_RASA_MODELS", str(models))
    monkeypatch.setenv("XIANGYIN_NLU_REVIEWED", str(reviewed))
    before = models / f"{fingerprint(render(config))}.tar.gz"
    shutil.copy(current, before)

    sidecar = RasaSidecar(config, port=free_port(), workers=2, startup_timeout=600.0, watchdog_interval=0.3)
    await sidecar.start()
    try:
        urls = sidecar.url.split(",")
        assert len(urls) == 2 and all(s.endswith(before.name) for s in [await _served(u) for u in urls])

        # An export that no retrain has accepted yet (no model for it): nothing changes.
        reviewed.parent.mkdir()
        reviewed.write_text("request_service:\n  agri_tech: |\n    - 俺家那头驴不吃草了 净打响鼻\n", encoding="utf-8")
        await asyncio.sleep(1.5)
        assert sidecar.model == before

        # The retrain caches the new data's model, then the watchdogs load it.
        after = models / f"{fingerprint(render(config))}.tar.gz"
        assert after != before
        shutil.copy(current, after)
        deadline = time.monotonic() + 120
        served: list[str] = []
        while time.monotonic() < deadline:
            served = [await _served(u) for u in urls]
            if all(s.endswith(after.name) for s in served):
                break
            await asyncio.sleep(0.5)
        assert all(s.endswith(after.name) for s in served), served
        assert sidecar.model == after and all(s.model == after for s in sidecar._siblings)
    finally:
        await sidecar.stop()
