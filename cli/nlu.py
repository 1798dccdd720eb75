"""`xiangyin nlu …`: train, serve, parse, eval (Rasa language understanding)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import typer

from cli.common import app_config, err_console
from core.clock import LOCAL_TZ
from core.config import AppConfig
from nlu.sidecar import RasaSidecar, SidecarError, ensure_model

app = typer.Typer(no_args_is_help=True)

HELDOUT = Path(__file__).resolve().parent.parent / "nlu" / "tests_data" / "heldout.yml"


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per health probe otherwise


@contextlib.asynccontextmanager
async def _server(config: AppConfig, url: str | None, start: bool, *, required: bool = True) -> AsyncIterator[str]:
    """A Rasa URL to talk to: --url, RASA_URL, a running local sidecar, or one started now.

    If none can be started and `required` is false, the (dead) local URL is returned anyway:
    the client then answers nlu_fallback with the rule-based entities."""
    if url:
        yield url
        return
    sidecar = RasaSidecar(config)
    if sidecar.external or not start or await sidecar.healthy():
        yield sidecar.url
        return
    from nlu.sidecar import free_port

    if await sidecar.port_taken():  # something unhealthy holds the port: use another
        sidecar = RasaSidecar(config, port=free_port())
    err_console.print(f"starting a Rasa sidecar for this command (log: var/log/rasa-{sidecar.port}.log)…")
    try:
        await sidecar.start()
    except SidecarError as exc:
        if required:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None
        err_console.print(f"[yellow]warning:[/yellow] no Rasa ({exc}); every line will be nlu_fallback")
        yield sidecar.url
        return
    try:
        yield sidecar.url
    finally:
        await sidecar.stop()


@app.command()
def train(verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
    """Build the Rasa project from config.yml and train it (skipped when cached)."""
    _setup_logging(verbose)
    config = app_config()
    try:
        model, build, seconds = asyncio.run(ensure_model(config))
    except SidecarError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    how = f"trained in {seconds:.0f}s" if seconds is not None else "cached, not retrained"
    typer.echo(f"model {model} ({how}); project {build.path}")


@app.command()
def serve(verbose: bool = typer.Option(True, "--verbose/--quiet")) -> None:
    """Run the Rasa sidecar in the foreground (trains first if needed) until Ctrl-C."""
    _setup_logging(verbose)
    config = app_config()

    async def main() -> None:
        sidecar = RasaSidecar(config)
        try:
            await sidecar.start()
        except SidecarError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None
        typer.echo(f"Rasa ready at {sidecar.url} (Ctrl-C to stop)")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # SIGTERM (docker stop, systemd) and SIGINT both end Rasa cleanly; SIGINT must be set
        # explicitly because a shell ignores it for background jobs.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await sidecar.stop()

    asyncio.run(main())


def _read_lines() -> list[str]:
    # Split on \n only: str.splitlines would also split on \x0b, \x1c, \u2028… inside a text.
    data = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


@app.command()
def parse(
    url: str = typer.Option(None, help="Rasa server URL (default: RASA_URL, else the local sidecar)."),
    now: str = typer.Option(None, help="Message time, ISO 8601 (default: now, Asia/Shanghai)."),
    start: bool = typer.Option(True, "--start/--no-start", help="Start a sidecar if none is running."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Read one text a line on stdin, write one JSON object a line (DESIGN.md shape)."""
    from nlu.client import NluClient  # jieba, pypinyin, cn2an: ~1 s no other command needs at start

    _setup_logging(verbose)
    config = app_config()
    received = _parse_now(now)
    lines = _read_lines()

    async def main() -> None:
        async with _server(config, url, start and any(line.strip() for line in lines), required=False) as base:
            client = NluClient.from_config(config, base)
            try:
                for i in range(0, len(lines), 8):  # a few in flight, output kept in order
                    batch = lines[i : i + 8]
                    results = await asyncio.gather(*(client.parse(t, received) for t in batch))
                    for r in results:
                        sys.stdout.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")
                    sys.stdout.flush()
            finally:
                await client.aclose()

    asyncio.run(main())


def _parse_now(now: str | None) -> datetime | None:
    if not now:
        return None
    try:
        moment = datetime.fromisoformat(now)
    except ValueError:
        err_console.print(f"[red]error:[/red] --now: not an ISO 8601 time: {now!r}", highlight=False)
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


@app.command("eval")
def evaluate(
    file: Path = typer.Option(HELDOUT, help="Labelled YAML (see nlu/evaluate.py for the format)."),
    url: str = typer.Option(None, help="Rasa server URL (default: RASA_URL, else the local sidecar)."),
    cross_validation: int = typer.Option(
        0,
        "--cross-validation",
        "-k",
        help="K-fold cross-validation of the training examples instead (trains K models).",
    ),
    summary: bool = typer.Option(False, "--summary", help="Aggregate figures only: no texts, no confusion tables."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Score the NLU on a labelled set (next to a keyword baseline), or cross-validate it."""
    from nlu.client import NluClient
    from nlu.evaluate import evaluate_client, format_report, load_heldout, summary_only

    _setup_logging(verbose)
    config = app_config()
    if cross_validation:
        report = {"rasa": _cross_validate(config, cross_validation)}
    else:
        try:
            cases = load_heldout(file)
        except (OSError, ValueError) as exc:
            err_console.print(f"[red]error:[/red] {file}: {exc}", highlight=False)
            raise typer.Exit(2) from None

        async def main() -> dict[str, object]:
            async with _server(config, url, True) as base:
                client = NluClient.for_scoring(config, base)
                try:
                    return await evaluate_client(client, config, cases)
                finally:
                    await client.aclose()

        report = asyncio.run(main())
    if summary:
        report = summary_only(report)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report, summary=summary))


def _cross_validate(config: AppConfig, k: int) -> dict[str, object]:
    from nlu.crossval import cross_validate

    if k < 2:
        err_console.print("[red]error:[/red] --cross-validation needs K ≥ 2", highlight=False)
        raise typer.Exit(2)
    try:
        return asyncio.run(cross_validate(config, k, progress=lambda msg: err_console.print(msg, highlight=False)))
    except SidecarError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None


@app.command()
def retrain(
    folds: int = typer.Option(0, "--folds", "-k", help="Cross-validation folds (default 2)."),
    tolerance: float = typer.Option(None, help="How much a figure may drop and still count as not worse (0)."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Gated retrain: train with the exported inbox labels, swap in only if no score is worse."""
    from nlu.retrain import ACCEPTED, NOTHING, RetrainBusy, RetrainStatus, default_folds, default_tolerance, elapsed
    from nlu.retrain import retrain as run_retrain

    _setup_logging(verbose)
    config = app_config()
    k = folds or default_folds()
    if k < 2:
        err_console.print("[red]error:[/red] --folds needs K ≥ 2", highlight=False)
        raise typer.Exit(2)

    def show(status: RetrainStatus) -> None:
        err_console.print(f"[{status.done}/{status.total}] {elapsed(status):4.0f}s {status.step}", highlight=False)

    try:
        gate = default_tolerance() if tolerance is None else max(0.0, tolerance)
        status = asyncio.run(run_retrain(config, k=k, tolerance=gate, progress=show))
    except RetrainBusy:
        err_console.print("[red]error:[/red] 已经有一个重新训练在跑了", highlight=False)
        raise typer.Exit(1) from None
    except SidecarError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    for _key, label, before, after, worse in status.rows:
        b = f"{before:.3f}" if before is not None else "-"
        a = f"{after:.3f}" if after is not None else "-"
        typer.echo(f"{label:<24} {b}  →  {a}{'  变差' if worse else ''}")
    typer.echo(status.message)
    raise typer.Exit(0 if status.state in (ACCEPTED, NOTHING) else 3)
