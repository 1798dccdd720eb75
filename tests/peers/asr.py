"""A local fake FunASR runtime server (its WebSocket protocol, offline mode) and the audio
helpers to make residents' voice messages (espeak-ng speech, AMR for WeChat, OGG for Telegram).

It cannot understand speech, so a test first teaches it what a recording says
(`learn(text, pcm)`); it then answers a recording with the text of the learned one whose
loudness envelope it matches (duration within 25 %, correlation ≥ 0.6) — after the AMR or
Opus round trip and the adapter's conversion — and "" for anything else.  So a test only
passes when the adapter really fetched, converted and streamed the resident's audio.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass, field

import numpy as np
from aiohttp import WSMsgType, web

RATE = 16000


@dataclass
class Recognition:
    header: dict[str, object]
    seconds: float
    text: str


@dataclass
class FakeAsr:
    delay: float = 0.0  # seconds before answering (a slow server)
    learned: list[tuple[str, np.ndarray]] = field(default_factory=list)
    served: list[Recognition] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.url

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def learn(self, text: str, pcm: bytes) -> None:
        self.learned.append((text, envelope(pcm)))

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("binary",))
        await ws.prepare(request)
        header: dict[str, object] = {}
        audio = bytearray()
        async for message in ws:
            if message.type is WSMsgType.BINARY:
                audio += message.data
                continue
            if message.type is not WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if not header:
                header = data
                if (
                    header.get("mode") != "offline"
                    or header.get("audio_fs") != RATE
                    or header.get("wav_format") != "pcm"
                ):
                    await ws.close(code=1003, message=b"unsupported stream")
                    break
            if data.get("is_speaking") is False:
                await asyncio.sleep(self.delay)
                text = self.recognise(bytes(audio))
                self.served.append(Recognition(header, len(audio) / (2 * RATE), text))
                answer = {"mode": "offline", "text": text, "wav_name": header.get("wav_name"), "is_final": False}
                await ws.send_str(json.dumps(answer, ensure_ascii=False))
                break
        await ws.close()
        return ws

    def recognise(self, pcm: bytes) -> str:
        heard = envelope(pcm)
        best, score = "", 0.6
        for text, known in self.learned:
            if not 0.75 <= len(heard) / max(len(known), 1) <= 1.25:
                continue
            n = min(len(heard), len(known))
            r = float(np.corrcoef(heard[:n], known[:n])[0, 1]) if n > 10 else 0.0
            if r >= score:
                best, score = text, r
        return best


def envelope(pcm: bytes) -> np.ndarray:
    """Loudness (dB) per 20 ms frame."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
    frame = RATE // 50
    frames = x[: len(x) // frame * frame].reshape(-1, frame)
    return 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-4)


# ---------------------------------------------------------------- residents' voices
def speech_pcm(text: str) -> bytes:
    """A Mandarin sentence spoken by espeak-ng, as 16 kHz mono s16le."""
    wav = subprocess.run(["espeak-ng", "-v", "cmn", "--stdout", text], capture_output=True, check=True).stdout
    return _ffmpeg(["-i", "pipe:0", "-ac", "1", "-ar", str(RATE), "-f", "s16le", "pipe:1"], wav)


def amr_of(pcm: bytes) -> bytes:
    """What a WeChat phone uploads: AMR-NB, 8 kHz (sox with libopencore-amrnb; ffmpeg here only decodes AMR)."""
    args = ["sox", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1", "-", "-r", "8000", "-C", "7"]
    return subprocess.run([*args, "-t", "amr-nb", "-"], input=pcm, capture_output=True, check=True).stdout


def ogg_of(pcm: bytes) -> bytes:
    """What a Telegram app uploads for a voice note: OGG/Opus."""
    return _ffmpeg(
        ["-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0", "-c:a", "libopus", "-f", "ogg", "pipe:1"], pcm
    )


def _ffmpeg(args: list[str], data: bytes) -> bytes:
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", *args]
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout
