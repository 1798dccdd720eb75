"""NLU latency and throughput: the app's NluClient vs raw HTTP to the Rasa sidecar.

    .venv/bin/python benchmarks/nlu_latency.py [--url URL] [--n 300] [--train]
        [--workers N] [--model PATH.tar.gz]

--workers N serves the model from N Rasa processes and spreads the client's parses over them
(fewest in flight first); --model serves a given model (e.g. the one before a change) instead
of the one of the current data.

Measures (medians of the held-out texts, sequential unless stated):
  - parse latency p50/p95, raw `POST /model/parse` vs `NluClient.parse` (client overhead);
  - throughput with 8 and 32 concurrent requests through the client;
  - sidecar memory (RSS of the Rasa process tree);
  - with --train: a cold training run into a temporary model cache (takes minutes).
Targets: client overhead ≤ 10 % over raw Rasa; client p95 ≤ 60 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import load_config  # noqa: E402
from nlu.client import NluClient  # noqa: E402
from nlu.evaluate import load_heldout  # noqa: E402
from nlu.sidecar import ensure_model  # noqa: E402
from tests.peers.rasa import ThreadedSidecar  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mb(pid: int) -> float:
    """RSS of a process and its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


async def measure(url: str, texts: list[str], n: int) -> dict[str, float]:
    config = load_config()
    sample = (texts * (n // len(texts) + 1))[:n]
    client = NluClient.from_config(config, url)
    raw: list[float] = []
    via: list[float] = []
    first = url.split(",")[0]  # raw HTTP: one server, sequential
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:

        async def raw_parse(t: str) -> None:
            (await http.post(f"{first}/model/parse", json={"text": t})).json()

        for t in sample[:20]:  # warm-up: TensorFlow builds its graph on the first calls
            await raw_parse(t)
            await client.parse(t)
        # Interleaved, alternating which goes first, so drift in machine load hits both alike.
        for i, t in enumerate(sample):
            pair = [(raw, raw_parse), (via, client.parse)]
            for sink, call in pair if i % 2 else pair[::-1]:
                started = time.perf_counter()
                await call(t)
                sink.append((time.perf_counter() - started) * 1000)
    out = {
        "raw_p50_ms": statistics.median(raw),
        "raw_p95_ms": pct(raw, 0.95),
        "client_p50_ms": statistics.median(via),
        "client_p95_ms": pct(via, 0.95),
    }
    out["client_overhead_pct"] = 100 * (out["client_p50_ms"] / out["raw_p50_ms"] - 1)
    for concurrency in (8, 32):
        sem = asyncio.Semaphore(concurrency)

        async def one(t: str, sem: asyncio.Semaphore = sem) -> None:
            async with sem:
                await client.parse(t)

        started = time.perf_counter()
        await asyncio.gather(*(one(t) for t in sample))
        out[f"throughput_c{concurrency}_rps"] = len(sample) / (time.perf_counter() - started)
    await client.aclose()
    return out


async def cold_training_seconds() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XIANGYIN_RASA_MODELS"] = tmp
        try:
            started = time.monotonic()
            await ensure_model(load_config())
            return time.monotonic() - started
        finally:
            del os.environ["XIANGYIN_RASA_MODELS"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an already running Rasa server (default: start a sidecar)")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--train", action="store_true", help="also time a cold training run")
    parser.add_argument("--workers", type=int, default=1, help="Rasa processes to serve from")
    parser.add_argument("--model", type=Path, help="serve this model instead of the current data's")
    args = parser.parse_args()
    texts = [c.text for c in load_heldout(ROOT / "nlu" / "tests_data" / "heldout.yml")]
    results: dict[str, float] = {}
    if args.train:
        results["training_s"] = asyncio.run(cold_training_seconds())
    if args.url:
        results.update(asyncio.run(measure(args.url.rstrip("/"), texts, args.n)))
    else:
        started = time.monotonic()
        sidecars = [ThreadedSidecar(load_config(), model=args.model).start() for _ in range(args.workers)]
        try:
            results["sidecar_start_s"] = time.monotonic() - started
            results.update(asyncio.run(measure(",".join(s.url for s in sidecars), texts, args.n)))
            results["sidecar_rss_mb"] = sum(rss_mb(s.sidecar.pid) for s in sidecars if s.sidecar.pid)
        finally:
            for s in sidecars:
                s.stop()
    for key, value in results.items():
        print(f"{key:<24} {value:10.1f}")
    ok = results["client_p95_ms"] <= 60 and results["client_overhead_pct"] <= 10
    print("targets (p95 ≤ 60 ms, overhead ≤ 10 %):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
