"""Speech recognition: a client for the FunASR runtime's WebSocket protocol (self-hosted).

One connection per recording, offline mode: a JSON header, the 16 kHz PCM in binary frames,
`{"is_speaking": false}`, then the server's one JSON result (`{"mode": "offline", "text": …}`).
The same protocol is spoken by FunASR's Python and C++ runtime servers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Protocol

import aiohttp

log = logging.getLogger(__name__)

CHUNK_BYTES = 32000  # one second of 16 kHz s16le per frame
RESULT_MODES = {"offline", "2pass-offline"}


class SpeechToText(Protocol):
    async def transcribe(self, pcm16k: bytes) -> str | None:
        """The words heard ("" when nothing intelligible), or None when recognition failed."""
        ...

    async def aclose(self) -> None: ...


class FunAsrClient:
    def __init__(self, url: str, *, timeout: float = 8.0) -> None:
        self.url = url
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def transcribe(self, pcm16k: bytes) -> str | None:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._transcribe(pcm16k)
        except TimeoutError:
            log.warning("asr: no result within %.1f s", self.timeout)
        except (aiohttp.ClientError, OSError) as exc:
            log.warning("asr: server unreachable (%s)", type(exc).__name__)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("asr: bad response (%s)", type(exc).__name__)
        return None

    async def _transcribe(self, pcm: bytes) -> str:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(trust_env=False)
        async with self._session.ws_connect(self.url, protocols=("binary",), heartbeat=None) as ws:
            header = {
                "mode": "offline", "wav_name": "voice", "wav_format": "pcm", "audio_fs": 16000,
                "is_speaking": True, "itn": True, "hotwords": "", "chunk_size": [5, 10, 5], "chunk_interval": 10,
            }  # fmt: skip
            await ws.send_str(json.dumps(header))
            for start in range(0, len(pcm), CHUNK_BYTES):
                await ws.send_bytes(pcm[start : start + CHUNK_BYTES])
            await ws.send_str(json.dumps({"is_speaking": False}))
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise ValueError(f"unexpected websocket message {message.type}")
                result = json.loads(message.data)
                if result.get("mode", "offline") in RESULT_MODES:
                    text = result["text"]
                    if not isinstance(text, str):
                        raise TypeError("text is not a string")
                    log.info("asr: recognised %.1f s of audio into %d characters", len(pcm) / 32000, len(text))
                    return text.strip()
        raise ValueError("connection closed without a result")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
