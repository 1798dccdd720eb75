"""edge-tts through its real client against a local fake server; espeak-ng for real; cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadcasts.tts import SpeechService
from core.config import BroadcastSettings
from tests.peers.edge_tts import FakeEdgeServer

TEXT = "各位村民请注意,明天上午九点在村委会开展义诊。"


def service(tmp_path: Path, **kw: object) -> SpeechService:
    settings = BroadcastSettings(edge_backoff_seconds=0.01, edge_attempts=3, edge_timeout_seconds=5, **kw)  # type: ignore[arg-type]
    return SpeechService(settings, tmp_path / "cache")


async def test_edge_voice_through_the_real_client(tmp_path: Path, edge_server: FakeEdgeServer) -> None:
    speech = service(tmp_path, edge_url=edge_server.url)
    clip = await speech.speak(TEXT, "zh-CN-liaoning-XiaobeiNeural", "cmn")
    assert (clip.engine, clip.fallback, clip.rate) == ("edge", False, 24000)
    assert clip.seconds > 1.0
    ssml = edge_server.requests[0]
    assert "zh-CN-liaoning, XiaobeiNeural" in ssml and "rate='-10%'" in ssml and TEXT in ssml


async def test_cache_hit_synthesises_once(tmp_path: Path, edge_server: FakeEdgeServer) -> None:
    speech = service(tmp_path, edge_url=edge_server.url)
    await speech.speak(TEXT, "zh-CN-XiaoxiaoNeural", "cmn")
    again = await speech.speak(TEXT, "zh-CN-XiaoxiaoNeural", "cmn")
    other_voice = await speech.speak(TEXT, "zh-CN-YunxiNeural", "cmn")
    assert again.cached and not other_voice.cached
    assert edge_server.connections == 2
    assert (speech.stats.hits, speech.stats.misses) == (1, 2)


@pytest.mark.parametrize("failures", [[403], [503], [429, "no_audio"], ["no_audio"]])
async def test_transient_failures_are_retried(tmp_path: Path, edge_server: FakeEdgeServer, failures) -> None:  # type: ignore[no-untyped-def]
    edge_server.failures = list(failures)
    speech = service(tmp_path, edge_url=edge_server.url)
    clip = await speech.speak(TEXT, "zh-CN-XiaoxiaoNeural", "cmn")
    assert clip.engine == "edge" and not clip.fallback
    assert edge_server.connections == len(failures) + 1


async def test_persistent_failure_falls_back_to_espeak(tmp_path: Path, edge_server: FakeEdgeServer) -> None:
    edge_server.failures = [503, 503, 503]
    speech = service(tmp_path, edge_url=edge_server.url)
    clip = await speech.speak(TEXT, "zh-HK-HiuGaaiNeural", "yue")
    assert (clip.engine, clip.fallback) == ("espeak", True)
    assert clip.seconds > 1.0
    assert edge_server.connections == 3
    # The breaker skips edge for a while: the next text goes straight to espeak-ng.
    await speech.speak("第二条通知。", "zh-HK-HiuGaaiNeural", "yue")
    assert edge_server.connections == 3


async def test_offline_engine_speaks_mandarin_and_cantonese(tmp_path: Path) -> None:
    speech = service(tmp_path, edge_enabled=False)
    cmn = await speech.speak(TEXT, "zh-CN-XiaoxiaoNeural", "cmn")
    yue = await speech.speak(TEXT, "zh-HK-HiuGaaiNeural", "yue")
    assert cmn.fallback and yue.fallback and cmn.seconds > 2 and yue.seconds > 2
    assert not (len(cmn.samples) == len(yue.samples) and (cmn.samples == yue.samples).all())
