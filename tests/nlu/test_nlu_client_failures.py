"""The client never raises into the bot: a down, slow or garbled server gives nlu_fallback fast.

The servers here are real local HTTP servers misbehaving on purpose (a real Rasa cannot be
made to hang or talk nonsense on demand); the happy path runs against the real sidecar in
test_nlu_rasa.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import pytest

from core.clock import LOCAL_TZ
from core.config import load_config
from nlu.client import NluClient, clean_text
from nlu.sidecar import free_port

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=LOCAL_TZ)
Handler = Callable[[bytes], Awaitable[tuple[int, bytes]]]


async def _serve(handler: Handler) -> AsyncIterator[str]:
    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                status, payload = await handler(body)
                writer.write(
                    b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                    % (status, len(payload), payload)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


def _rasa_reply(intent: str, confidence: float, entities: list[dict[str, object]] | None = None) -> Handler:
    async def handler(body: bytes) -> tuple[int, bytes]:
        text = json.loads(body)["text"]
        reply = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
        return 200, json.dumps(reply).encode()

    return handler


def _client(url: str, timeout: float = 0.5) -> NluClient:
    return NluClient(url, load_config(environ={}), timeout=timeout, threshold=0.5)


async def test_unreachable_server_gives_fallback_quickly_with_entities(caplog: pytest.LogCaptureFixture) -> None:
    # A refused connection answers at once: it must not wait out the (long) timeout.
    client = _client(f"http://127.0.0.1:{free_port()}", timeout=30.0)
    caplog.set_level(logging.INFO, logger="nlu.client")
    started = time.monotonic()
    result = await client.parse("明天上午能来剪头不 电话13800001234", NOW)
    await client.aclose()
    assert time.monotonic() - started < 10.0
    assert (result.intent, result.fallback_reason) == ("nlu_fallback", "unreachable")
    # the deterministic rules still work without Rasa
    assert result.entities.service == "haircut"
    assert result.entities.time is not None and result.entities.time.start.hour == 8
    assert result.entities.phone == "13800001234"
    assert "unreachable" in caplog.text and "13800001234" not in caplog.text  # no personal data in logs


async def test_slow_server_times_out_then_cools_down() -> None:
    async def hang(body: bytes) -> tuple[int, bytes]:
        await asyncio.sleep(30)
        return 200, b"{}"

    async for url in _serve(hang):
        client = _client(url, timeout=0.3)
        started = time.monotonic()
        first = await client.parse("冰箱坏了", NOW)
        assert time.monotonic() - started < 1.0
        assert (first.intent, first.fallback_reason) == ("nlu_fallback", "timeout")
        started = time.monotonic()
        second = await client.parse("冰箱坏了", NOW)  # no second wait while the server is known slow
        assert time.monotonic() - started < 0.1
        assert second.fallback_reason == "unavailable"
        await client.aclose()


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (_rasa_reply("request_service", 0.31), "low_confidence"),
        (_rasa_reply("nlu_fallback", 0.5), "rasa_fallback"),
        (_rasa_reply("order_pizza", 0.99), "bad_response"),
    ],
)
async def test_uncertain_or_unknown_answers_become_fallback(handler: Handler, reason: str) -> None:
    async for url in _serve(handler):
        client = _client(url)
        result = await client.parse("嗯嗯那个啥", NOW)
        await client.aclose()
        assert (result.intent, result.fallback_reason) == ("nlu_fallback", reason)


async def test_garbled_and_error_replies_never_raise() -> None:
    async def garbage(body: bytes) -> tuple[int, bytes]:
        return 200, b"<html>not json"

    async def error(body: bytes) -> tuple[int, bytes]:
        return 500, b'{"error": "boom"}'

    async def wrong_shape(body: bytes) -> tuple[int, bytes]:
        return 200, b'{"intent": "greet", "entities": [1, "x", {"entity": 5}]}'

    for handler, reason in ((garbage, "bad_response"), (error, "bad_response"), (wrong_shape, "bad_response")):
        async for url in _serve(handler):
            client = _client(url)
            result = await client.parse("你好", NOW)
            await client.aclose()
            assert (result.intent, result.fallback_reason) == ("nlu_fallback", reason)


async def test_confident_answer_is_normalised() -> None:
    reply = _rasa_reply("request_service", 0.97, [{"entity": "service", "value": "剪头", "start": 0, "end": 2}])
    async for url in _serve(reply):
        client = _client(url)
        result = await client.parse("剪头 后天下午三点", NOW)
        await client.aclose()
    assert (result.intent, result.fallback_reason, result.entities.service) == ("request_service", None, "haircut")
    assert result.to_json() == {
        "text": "剪头 后天下午三点",
        "intent": "request_service",
        "confidence": 0.97,
        "entities": {
            "service": "haircut",
            "village": None,
            "time": {"start": "2026-06-03T15:00:00+08:00", "end": "2026-06-03T16:00:00+08:00"},
            "count": None,
            "order_id": None,
            "rating": None,
            "phone": None,
        },
    }


async def test_empty_text_does_not_call_rasa() -> None:
    client = _client(f"http://127.0.0.1:{free_port()}")
    for text in ("", "   ", "\x00\x07\u200b"):
        result = await client.parse(text, NOW)
        assert (result.intent, result.fallback_reason) == ("nlu_fallback", "empty")
    await client.aclose()


def test_clean_text_strips_controls_and_caps_length() -> None:
    assert clean_text("冰箱\x00坏了\t\n能修不\u200b") == "冰箱坏了 能修不"
    assert clean_text("ｆｕｌｌ１２３") == "full123"
    assert len(clean_text("啊" * 10_000)) == 500
