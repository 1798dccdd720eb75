"""Against the real Rasa sidecar (trained once, cached by fingerprint; see tests/rasa_fixture.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from core.clock import LOCAL_TZ
from core.config import load_config
from nlu.client import NluClient
from nlu.evaluate import evaluate_client, load_heldout
from nlu.sidecar import RasaSidecar, ensure_model

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=LOCAL_TZ)
pytestmark = pytest.mark.rasa

DESIGN_EXAMPLES = [
    ("能不能派人来给俺娘理个发", "request_service", "haircut"),
    ("我点的单有人接没", "check_order", None),
    ("理发那个单子不要了", "cancel_order", "haircut"),
    ("昨天来修电视的小伙子真不错", "rate_order", "appliance_repair"),
    ("你们都能提供啥服务", "ask_menu", None),
    ("今天大喇叭播了啥", "ask_broadcast", None),
    ("我会理发,想报名当志愿者", "volunteer_signup", "haircut"),
    ("我要找村里工作人员", "talk_to_staff", None),
    ("在不在", "greet", None),
    ("拜拜", "goodbye", None),
    ("谢谢你们", "thanks", None),
    ("对的", "affirm", None),
    ("不用了", "deny", None),
    ("冰箱不制冷了能派人来修下不", "request_service", "appliance_repair"),
]


@pytest.mark.parametrize(("text", "intent", "service"), DESIGN_EXAMPLES)
async def test_design_examples(nlu_client: NluClient, text: str, intent: str, service: str | None) -> None:
    result = await nlu_client.parse(text, NOW)
    assert (result.intent, result.entities.service) == (intent, service), result
    assert result.fallback_reason is None and result.confidence >= 0.5


# Enforced at the levels measured for this model (README, nlu).  Only figures and label counts
# appear in a failure: the independent sets' sentences are not to be read while developing.
@pytest.mark.parametrize(
    ("name", "intent", "service", "cases"),
    [
        ("heldout.yml", 0.97, 0.99, 250),
        ("heldout_fresh.yml", 0.95, 0.99, 60),
        ("dev.yml", 0.96, 0.98, 130),
        # Independent sets a point or so below the levels measured for this model (README): the
        # first 2026-12-05 set chose between the morning's pipeline variants; the frozen one and
        # the afternoon's (…05b) were never used for any choice.
        ("heldout_independent_2026-12-05.yml", 0.97, 0.97, 220),
        ("heldout_independent_2026-12-05b.yml", 0.96, 0.97, 245),
        ("heldout_frozen.yml", 0.94, 0.96, 320),
    ],
)
async def test_sets_meet_the_measured_levels(
    nlu_client: NluClient, name: str, intent: float, service: float, cases: int
) -> None:
    config = load_config(environ={})
    report = await evaluate_client(nlu_client, config, load_heldout(ROOT / "nlu" / "tests_data" / name))
    rasa, baseline = report["rasa"], report["baseline"]
    got = (rasa["cases"], rasa["intent_accuracy"], rasa["service_accuracy"])
    confusion = (rasa["intent_confusion"], rasa["service_confusion"])
    assert got[0] >= cases
    assert got[1] >= intent, confusion
    assert got[2] >= service, confusion
    if rasa["time_cases"]:
        timed = rasa["time_window_correct"]
        assert timed >= 0.9
    keywords = (baseline["intent_accuracy"], baseline["service_accuracy"])
    assert got[1] > keywords[0] and got[2] > keywords[1]


def test_cli_eval_summary_prints_no_sentence(rasa_url: str) -> None:
    text = _cli("eval", "--url", rasa_url, "--summary", "--file", "nlu/tests_data/heldout_frozen.yml")
    assert "service accuracy" in text and "intent accuracy" in text
    texts = [c.text for c in load_heldout(ROOT / "nlu" / "tests_data" / "heldout_frozen.yml")]
    assert not [t for t in texts if t in text] and "confusion" not in text and "→" not in text


def _cli_parse(url: str, payload: bytes) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "nlu", "parse", "--url", url, "--now", NOW.isoformat()],
        input=payload,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.decode("utf-8").split("\n") if line]


def test_cli_parse_done_criterion(rasa_url: str) -> None:
    (out,) = _cli_parse(rasa_url, "冰箱坏了能来修下不\n".encode())
    assert out["intent"] == "request_service"
    assert out["entities"]["service"] == "appliance_repair"
    assert set(out) == {"text", "intent", "confidence", "entities"}
    assert set(out["entities"]) == {"service", "village", "time", "count", "order_id", "rating", "phone"}


def test_cli_parse_survives_any_text(rasa_url: str) -> None:
    lines = [
        b"",
        ("啊" * 10_000).encode(),
        "😀😀🙏".encode(),
        b"\x00\x01\x1b[31m\x7f control \x0b\x0c chars",
        "理发 haircut стрижка ハサミ 이발 2026年".encode(),
        b"\xff\xfe broken utf-8 \xc3",
        b"   ",
        "\u2028\u202e明天上午\u200b剪头".encode(),
    ]
    out = _cli_parse(rasa_url, b"\n".join(lines) + b"\n")
    assert len(out) == len(lines)
    for item in out:
        assert set(item) == {"text", "intent", "confidence", "entities"}
        assert isinstance(item["intent"], str) and 0.0 <= float(item["confidence"]) <= 1.0
    assert out[0]["intent"] == "nlu_fallback"
    assert out[1]["text"] == "啊" * 10_000
    assert out[7]["entities"]["service"] == "haircut"
    assert out[7]["entities"]["time"]["start"] == "2026-06-02T08:00:00+08:00"


def _cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "nlu", *args], capture_output=True, cwd=ROOT, timeout=300, check=True
    )
    return done.stdout.decode("utf-8")


def test_cli_train_uses_the_cache(rasa_url: str) -> None:
    assert "cached, not retrained" in _cli("train")


def test_cli_eval_reports_rasa_and_baseline(rasa_url: str) -> None:
    report = json.loads(_cli("eval", "--url", rasa_url, "--json", "--file", "nlu/tests_data/heldout_fresh.yml"))
    for system in ("rasa", "baseline"):
        assert set(report[system]) >= {"intent_accuracy", "intent_macro_f1", "entities", "time_window_correct"}
        assert set(report[system]["entities"]) == {"service", "village", "time", "count", "order_id", "rating", "phone"}
    assert report["rasa"]["intent_accuracy"] > report["baseline"]["intent_accuracy"]
    text = _cli("eval", "--url", rasa_url, "--file", "nlu/tests_data/heldout_fresh.yml")
    assert "intent accuracy" in text and "keyword baseline" in text and "per-intent errors" in text


async def test_trained_model_is_cached() -> None:
    started = time.monotonic()
    model, build, seconds = await ensure_model(load_config(environ={}))
    assert seconds is None and model.exists() and build.fingerprint in model.name
    assert time.monotonic() - started < 10


async def test_external_url_starts_nothing() -> None:
    base = load_config(environ={})
    config = base.model_copy(update={"nlu": base.nlu.model_copy(update={"url": "http://127.0.0.1:9/"})})
    sidecar = RasaSidecar(config)
    await sidecar.start()
    assert (sidecar.url, sidecar.pid) == ("http://127.0.0.1:9", None)
    await sidecar.stop()


async def test_a_running_sidecar_with_our_model_is_adopted_not_duplicated(rasa_sidecar: RasaSidecar) -> None:
    second = RasaSidecar(load_config(environ={}), port=rasa_sidecar.port, watchdog_interval=0.2)
    await second.start()  # same port, same model: uses it instead of failing or starting another
    assert second.pid is None and await second.healthy()
    await asyncio.sleep(0.5)  # its watchdog sees a healthy adopted server and leaves it alone
    await second.stop()
    assert await rasa_sidecar.healthy()  # stopping the adopter does not stop the owner's server


async def test_watchdog_restarts_a_dead_sidecar(rasa_sidecar: RasaSidecar, nlu_client: NluClient) -> None:
    # Runs last in this module: it kills the shared server and waits until it is back.
    old_pid = rasa_sidecar.pid
    assert old_pid is not None
    restarts = rasa_sidecar.restarts
    os.killpg(old_pid, signal.SIGKILL)
    down = await nlu_client.parse("冰箱坏了", NOW)
    assert down.intent == "nlu_fallback" and down.entities.service == "appliance_repair"
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and not (rasa_sidecar.restarts > restarts and await rasa_sidecar.healthy()):
        await asyncio.sleep(1)
    assert rasa_sidecar.restarts == restarts + 1 and rasa_sidecar.pid not in (None, old_pid)
    await asyncio.sleep(3.5)  # let the client's cool-down after the failure pass
    back = await nlu_client.parse("冰箱坏了能来修下不", NOW)
    assert back.intent == "request_service"
