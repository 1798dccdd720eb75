"""Bot throughput: N concurrent residents ordering through the fake Bot API server, with the
real Rasa sidecar, the real PTB Application and a real SQLite database.

The bot runs in its own process, as in production; this process plays Telegram (the fake
Bot API server) and the residents.  Reports messages/s, p50/p95 reply latency, the share of
the bot's handling time spent outside the NLU, and the bot's overhead over the NLU's own
cost (the same texts parsed by NluClient alone at the same concurrency).
Targets: overhead ≤ 15 %, ≥ 100 messages/s.

    .venv/bin/python benchmarks/bot_throughput.py --residents 50 --rounds 3
    RASA_URL=http://127.0.0.1:5005 .venv/bin/python benchmarks/bot_throughput.py

Without RASA_URL a trained sidecar is started (tests.peers.rasa.running_sidecar).
BOT_BENCH_PROFILE=/tmp/bot.prof profiles the bot process (steady state, CPU time of the event-loop thread).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import AppConfig, load_config  # noqa: E402
from nlu.client import NluClient  # noqa: E402
from tests.peers.telegram_api import TOKEN, FakeBotApi, Sent  # noqa: E402

# One order conversation: (what the resident types, a word the bot's answer contains).
SCRIPT = (
    ("后天上午能不能派人来东山村给俺娘理个发", "几个人"),
    ("两个人", "请您核对"),
    ("对的", "单子下好了"),
)
FIRST_RESIDENT = 710000


@contextlib.contextmanager
def rasa(config: AppConfig) -> Iterator[str]:
    if os.environ.get("RASA_URL"):
        yield os.environ["RASA_URL"]
        return
    from tests.peers.rasa import running_sidecar

    with running_sidecar(config) as sidecar:
        yield sidecar.url


# ---------------------------------------------------------------- the bot process
async def serve_bot(rate_limit: float, transport: str) -> None:
    """Run TelegramFrontend (config from the environment) until stdin closes."""
    from bot.telegram import TelegramFrontend
    from core.app import build_context

    base = load_config()
    telegram = base.telegram.model_copy(update={"max_messages_per_second": rate_limit})
    # A saturated Rasa queues requests: measure throughput, not the 2 s fallback timeout.
    nlu = base.nlu.model_copy(update={"timeout_seconds": 30.0})
    ctx = build_context(base.model_copy(update={"telegram": telegram, "nlu": nlu}))
    async with NluClient.from_config(ctx.config) as client:
        for text, _ in SCRIPT:  # warm the connection and the tokenizer's dictionary
            await client.parse(text)
        frontend = TelegramFrontend(ctx, client, outbox_interval=0.5, poll_timeout=1, transport=transport)  # type: ignore[arg-type]
        await frontend.start()
        cpu_start = time.process_time()
        profile = cProfile.Profile(time.thread_time) if os.environ.get("BOT_BENCH_PROFILE") else None
        if profile:
            profile.enable()
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        if profile:
            profile.disable()
            profile.dump_stats(os.environ["BOT_BENCH_PROFILE"])
        engine = frontend.engine
        await frontend.stop()
    stats = {
        "nlu": engine.nlu_seconds,
        "handle": engine.handle_seconds,
        "turns": engine.turns,
        "cpu": time.process_time() - cpu_start,
    }
    print(json.dumps(stats), flush=True)


# ---------------------------------------------------------------- Telegram and residents
class Inboxes:
    """Each resident's replies with their arrival time (hooked into the fake server)."""

    def __init__(self) -> None:
        self.queues: dict[int, asyncio.Queue[tuple[float, Sent]]] = {}

    def __call__(self, sent: Sent) -> None:
        queue = self.queues.get(sent.chat_id)
        if queue is not None:
            queue.put_nowait((time.perf_counter(), sent))

    async def expect(self, chat_id: int, needle: str) -> float:
        while True:
            at, sent = await asyncio.wait_for(self.queues[chat_id].get(), 60)
            if needle in sent.text:
                return at


async def resident(api: FakeBotApi, inboxes: Inboxes, user: int, rounds: int, latencies: list[float]) -> None:
    inboxes.queues[user] = asyncio.Queue()
    for _ in range(rounds):
        for text, needle in SCRIPT:
            started = time.perf_counter()
            api.send_text(user, text)
            latencies.append(await inboxes.expect(user, needle) - started)


async def nlu_alone(url: str, config: AppConfig, concurrency: int, rounds: int) -> tuple[float, float]:
    """Wall time and client CPU for the NLU alone to parse the same messages at the same
    concurrency (the client's CPU is the NLU's too: it normalises entities)."""
    async with NluClient(url, config, timeout=30.0, threshold=config.nlu.confidence_threshold) as client:
        for text, _ in SCRIPT:
            await client.parse(text)

        async def one() -> None:
            for _ in range(rounds):
                for text, _ in SCRIPT:
                    await client.parse(text)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one() for _ in range(concurrency)))
        return time.perf_counter() - started, time.process_time() - cpu


async def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    config = load_config()
    with rasa(config) as url, tempfile.TemporaryDirectory() as tmp:
        api = FakeBotApi()
        await api.start()
        env = {
            **os.environ,
            "XIANGYIN_TELEGRAM_TOKEN": TOKEN,
            "XIANGYIN_TELEGRAM_BASE_URL": api.base_url,
            "XIANGYIN_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "RASA_URL": url,
        }
        bot = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve-bot",
            "--rate-limit", str(args.rate_limit), "--transport", args.transport,
            env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert bot.stdin is not None and bot.stdout is not None
        line = await asyncio.wait_for(bot.stdout.readline(), 120)
        if line.strip() != b"READY":
            raise SystemExit(f"the bot process did not start: {line!r}")
        inboxes = Inboxes()
        api.on_send = inboxes
        latencies: list[float] = []
        rasa_pid = rasa_process(url)
        rasa_cpu = cpu_seconds(rasa_pid)
        started, rig_cpu = time.perf_counter(), time.process_time()
        users = range(FIRST_RESIDENT, FIRST_RESIDENT + args.residents)
        await asyncio.gather(*(resident(api, inboxes, u, args.rounds, latencies) for u in users))
        wall, rig_cpu = time.perf_counter() - started, time.process_time() - rig_cpu
        rasa_cpu = cpu_seconds(rasa_pid) - rasa_cpu
        bot.stdin.close()
        stats = json.loads((await bot.stdout.readline()) or b"{}")
        await bot.wait()
        await api.stop()
        alone_cpu = cpu_seconds(rasa_pid)
        alone, client_cpu = await nlu_alone(url, config, args.residents, args.rounds)
        alone_cpu = cpu_seconds(rasa_pid) - alone_cpu
    stats.update(rasa_cpu=rasa_cpu, rasa_alone_cpu=alone_cpu, client_cpu=client_cpu, rig_cpu=rig_cpu)
    report(args, latencies, wall, alone, stats)


def rasa_process(url: str) -> int | None:
    """The pid of the process listening on the Rasa URL's port (Linux /proc), if found."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for row in f.read().splitlines()[1:]:
                cols = row.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":  # LISTEN
                    inodes.add(cols[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
    return None


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds a process has used so far (0 if unknown)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(args: argparse.Namespace, latencies: list[float], wall: float, alone: float, stats: dict) -> None:
    messages = len(latencies)
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (messages - 1))]
    print(
        f"residents={args.residents} rounds={args.rounds} messages={messages} "
        f"rate_limit={args.rate_limit}/s transport={args.transport}"
    )
    print(f"throughput       {messages / wall:8.1f} messages/s   (wall {wall:.2f}s)")
    print(f"reply latency    p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    if stats.get("handle"):
        outside = 1 - stats["nlu"] / stats["handle"]
        print(f"outside the NLU  {100 * outside:7.1f} % of the bot's handling time ({stats['turns']} turns)")
    if stats.get("rasa_cpu"):
        # The bot process also runs the NLU client (entity normalising): that part is the
        # NLU's cost, measured by parsing alone in this process.
        per = 1000 / messages
        nlu_cpu = stats["rasa_alone_cpu"] + stats["client_cpu"]
        bot_only = stats["cpu"] - stats["client_cpu"]
        print(
            f"CPU per message  bot process {per * stats['cpu']:6.2f} ms   Rasa {per * stats['rasa_cpu']:6.2f} ms"
            f"   NLU alone: Rasa {per * stats['rasa_alone_cpu']:6.2f} ms + client {per * stats['client_cpu']:6.2f} ms"
        )
        print(f"bot CPU cost     {100 * bot_only / nlu_cpu:7.1f} % on top of the NLU's own CPU cost")
        # The fake Bot API server and the residents share the machine's two cores with the
        # bot and Rasa; in production Telegram's side runs elsewhere.
        print(f"test rig CPU     {per * stats['rig_cpu']:6.2f} ms per message (fake Bot API server + residents)")
    print(f"NLU alone        {messages / alone:8.1f} messages/s   (wall {alone:.2f}s)")
    print(f"bot overhead     {100 * (wall / alone - 1):7.1f} % over the NLU's own cost")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="order conversations per resident")
    parser.add_argument(
        "--rate-limit", type=float, default=0, help="sends/s (Telegram allows ~30; 0 = none, local server)"
    )
    parser.add_argument(
        "--transport", choices=["aiohttp", "httpx"], default="aiohttp", help="the bot's HTTP client for the Bot API"
    )
    parser.add_argument("--serve-bot", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(serve_bot(args.rate_limit, args.transport) if args.serve_bot else run(args))


if __name__ == "__main__":
    main()
