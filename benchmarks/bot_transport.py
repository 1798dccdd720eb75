"""The bot's HTTP backend for the Bot API: `bot.transport.AiohttpRequest` vs PTB's default
`HTTPXRequest`, sending messages through the real PTB `Bot` to the fake Bot API server, which
runs in its own process so this one's CPU time is the client's alone.

    .venv/bin/python benchmarks/bot_transport.py [--n 300]

Reports per backend: CPU per request, sequential p50 latency, and requests/s with 400 sends
in flight at once.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bot.transport import AiohttpRequest  # noqa: E402
from tests.peers.telegram_api import TOKEN  # noqa: E402

# The fake server's process: serves until its stdin closes.
SERVE = (
    "import asyncio, sys\nfrom tests.peers.telegram_api import FakeBotApi\n"
    "async def main():\n    api = FakeBotApi(); await api.start(); print(api.base_url, flush=True)\n"
    "    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)\n"
    "asyncio.run(main())\n"
)


async def measure(name: str, request: BaseRequest, url: str, n: int) -> None:
    async with Bot(TOKEN, base_url=url, request=request) as bot:
        for _ in range(50):  # warm the connection pool
            await bot.send_message(1, "warm")
        latencies = []
        cpu = time.process_time()
        for _ in range(n):
            started = time.perf_counter()
            await bot.send_message(1, "单子下好了,单号 123-456。")
            latencies.append(time.perf_counter() - started)
        cpu = (time.process_time() - cpu) / n
        started = time.perf_counter()
        await asyncio.gather(*(bot.send_message(1, "并发") for _ in range(400)))
        rate = 400 / (time.perf_counter() - started)
    print(
        f"{name:8} CPU {1000 * cpu:5.2f} ms/request   sequential p50 {1000 * statistics.median(latencies):5.2f} ms"
        f"   concurrent {rate:6.0f} requests/s"
    )


async def main(n: int) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVE, cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert server.stdin is not None and server.stdout is not None
    url = (await server.stdout.readline()).decode().strip()
    try:
        await measure("aiohttp", AiohttpRequest(16), url, n)
        await measure("httpx", HTTPXRequest(16), url, n)
    finally:
        server.stdin.close()
        await server.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="sequential sends per backend")
    asyncio.run(main(parser.parse_args().n))
