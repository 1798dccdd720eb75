"""WeChat callbacks: N residents ordering at once through the fake WeChat servers, with the
real Rasa sidecar, the real WeChat adapter (its own process, as in production) and SQLite.

This process plays WeChat (it signs and POSTs the callbacks, waits up to 5 s like WeChat)
and the residents.  Reports callbacks/s, the passive-reply time (POST → reply) p50/p95, and
how many answers missed the reply budget and went through the customer-service API.
Target: p95 well under WeChat's 5 s at 50 residents at once.

    .venv/bin/python benchmarks/wechat_callbacks.py --residents 50 --rounds 2
    RASA_URL=http://127.0.0.1:5046 .venv/bin/python benchmarks/wechat_callbacks.py --mode safe

Without RASA_URL a trained sidecar is started (tests.peers.rasa.running_sidecar).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bot_throughput import SCRIPT, cpu_seconds, rasa, rasa_process  # noqa: E402
from core.config import load_config  # noqa: E402
from nlu.client import NluClient  # noqa: E402
from tests.peers.wechat import AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChat  # noqa: E402
from tests.wechat.conftest import free_port  # noqa: E402


# ---------------------------------------------------------------- the adapter process
async def serve() -> None:
    """Run WeChatFrontend (config from the environment) until stdin closes."""
    from bot.wechat.frontend import WeChatFrontend
    from core.app import build_context

    base = load_config()
    # A saturated Rasa queues requests: measure that queue, not the 2 s NLU fallback.
    ctx = build_context(base.model_copy(update={"nlu": base.nlu.model_copy(update={"timeout_seconds": 30.0})}))
    async with NluClient.from_config(ctx.config) as client:
        for text, _ in SCRIPT:
            await client.parse(text)  # warm the connection
        frontend = WeChatFrontend(ctx, client, outbox_interval=0.5)
        await frontend.start()
        cpu = time.process_time()
        print(f"READY {frontend.url}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        cpu = time.process_time() - cpu
        stats = {"turns": frontend.engine.turns, "late": frontend.late_answers, "cpu": cpu}
        await frontend.stop()
    print(json.dumps(stats), flush=True)


# ---------------------------------------------------------------- WeChat and residents
async def resident(fake: FakeWeChat, openid: str, rounds: int, passive: list[float], late: list[float]) -> None:
    for _ in range(rounds):
        for text, needle in SCRIPT:
            mark = len(fake.log)
            started = time.perf_counter()
            delivery = await fake.send_text(openid, text)
            if delivery.reply is not None:
                assert needle in delivery.reply["Content"], (text, delivery.reply["Content"][:60])
                passive.append(time.perf_counter() - started)
                continue
            await fake.wait_text(openid, needle, after=mark, timeout=120)
            late.append(time.perf_counter() - started)


async def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    config = load_config()
    with rasa(config) as url, tempfile.TemporaryDirectory() as tmp:
        fake = FakeWeChat(mode=args.mode)
        await fake.start()
        env = {
            **os.environ,
            "XIANGYIN_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "XIANGYIN_AUDIO_DIR": str(Path(tmp) / "audio"),
            "RASA_URL": url,
            "XIANGYIN_WECHAT_APP_ID": APP_ID,
            "XIANGYIN_WECHAT_APP_SECRET": APP_SECRET,
            "XIANGYIN_WECHAT_TOKEN": TOKEN,
            "XIANGYIN_WECHAT_AES_KEY": AES_KEY,
            "XIANGYIN_WECHAT_PORT": str(free_port()),
            "XIANGYIN_WECHAT_BASE_URL": fake.base_url,
        }
        adapter = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve", env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert adapter.stdin is not None and adapter.stdout is not None
        line = (await asyncio.wait_for(adapter.stdout.readline(), 180)).decode().split()
        if not line or line[0] != "READY":
            raise SystemExit(f"the adapter process did not start: {line!r}")
        fake.callback_url = line[1]
        passive: list[float] = []
        late: list[float] = []
        rasa_pid = rasa_process(url)
        rasa_cpu = cpu_seconds(rasa_pid)
        started, rig_cpu = time.perf_counter(), time.process_time()
        openids = [f"oBench{n:022d}" for n in range(args.residents)]
        await asyncio.gather(*(resident(fake, o, args.rounds, passive, late) for o in openids))
        wall, rig_cpu = time.perf_counter() - started, time.process_time() - rig_cpu
        rasa_cpu = cpu_seconds(rasa_pid) - rasa_cpu
        adapter.stdin.close()
        stats = json.loads((await adapter.stdout.readline()) or b"{}")
        await adapter.wait()
        await fake.stop()
    report(args, passive, late, wall, stats | {"rasa_cpu": rasa_cpu, "rig_cpu": rig_cpu})


def report(args: argparse.Namespace, passive: list[float], late: list[float], wall: float, stats: dict) -> None:
    total = len(passive) + len(late)
    passive.sort()
    print(f"residents={args.residents} rounds={args.rounds} callbacks={total} mode={args.mode}")
    print(f"throughput       {total / wall:8.1f} callbacks/s   (wall {wall:.2f}s)")
    if passive:
        p50, p95 = statistics.median(passive), passive[int(0.95 * (len(passive) - 1))]
        print(
            f"passive reply    p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   max {passive[-1] * 1000:7.1f} ms"
        )
    tail = f", p95 {sorted(late)[int(0.95 * (len(late) - 1))]:.2f} s" if late else ""
    print(f"late (客服消息)   {len(late)} of {total}{tail}")
    if stats.get("cpu"):
        per = 1000 / total
        print(
            f"CPU per callback adapter {per * stats['cpu']:6.2f} ms   Rasa {per * stats['rasa_cpu']:6.2f} ms"
            f"   test rig {per * stats['rig_cpu']:6.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="order conversations per resident")
    parser.add_argument("--mode", choices=["plain", "safe"], default="plain", help="callbacks 明文 or 安全 (AES)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(serve() if args.serve else run(args))


if __name__ == "__main__":
    main()
