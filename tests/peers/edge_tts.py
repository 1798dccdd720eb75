"""A local server speaking edge-tts's websocket protocol, for tests and benchmarks.

edge-tts's real client (`edge_tts.Communicate`) talks to it when `broadcasts.edge_url`
points here: speech.config + ssml in; turn.start, binary audio frames (2-byte header
length, headers, MP3), audio.metadata, turn.end out. Failure modes on demand.
"""

from __future__ import annotations

import email.utils

import lameenc
import numpy as np
from aiohttp import WSMsgType, web


def tone_mp3(seconds: float) -> bytes:
    """A 24 kHz mono MP3 like the service's (audio-24khz-48kbitrate-mono-mp3)."""
    t = np.arange(int(seconds * 24000)) / 24000
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    enc = lameenc.Encoder()
    enc.set_bit_rate(48)
    enc.set_in_sample_rate(24000)
    enc.set_channels(1)
    enc.set_quality(7)
    return bytes(enc.encode((x * 32767).astype("<i2").tobytes()) + enc.flush())


class FakeEdgeServer:
    """The edge "read aloud" service on 127.0.0.1. `failures` is a queue of modes for the
    next connections: an HTTP status (403, 503, 429…) or "no_audio" (a turn without audio)."""

    def __init__(self) -> None:
        self.failures: list[object] = []
        self.requests: list[str] = []
        self.connections = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handler(self, request: web.Request) -> web.StreamResponse:
        self.connections += 1
        assert request.query.get("TrustedClientToken") and request.query.get("Sec-MS-GEC")
        mode = self.failures.pop(0) if self.failures else None
        if isinstance(mode, int):
            return web.Response(status=mode, headers={"Date": email.utils.formatdate(usegmt=True)})
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        ssml = ""
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            if "Path:ssml" in msg.data:
                ssml = msg.data
                break
        self.requests.append(ssml)
        rid = "X-RequestId:0\r\n"
        await ws.send_str(f"{rid}Content-Type:application/json; charset=utf-8\r\nPath:turn.start\r\n\r\n{{}}")
        if mode != "no_audio":
            text = ssml.split("'>", 3)[-1]
            audio = tone_mp3(min(8.0, 0.5 + 0.05 * len(text)))
            header = f"{rid}Content-Type:audio/mpeg\r\nPath:audio\r\n".encode()
            for i in range(0, len(audio), 4096):
                await ws.send_bytes(len(header).to_bytes(2, "big") + header + audio[i : i + 4096])
        await ws.send_str(f"{rid}Path:turn.end\r\n\r\n{{}}")
        await ws.close()
        return ws

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/edge/v1", self.handler)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}/edge/v1?TrustedClientToken=6A5AA1D4EAFF4E9FB37E23D68491D6F4"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()
