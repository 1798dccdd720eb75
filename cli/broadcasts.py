"""`xiangyin broadcasts …`: announcements, the day's programme, generating and playing MP3s."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from datetime import date, datetime, timedelta
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from broadcasts.errors import BroadcastError, IllegalTransition
from broadcasts.models import AnnouncementStatus, ItemState, PlanKind, Priority
from broadcasts.service import AnnouncementDraft, BroadcastService
from cli.common import console, context, domain_errors
from core.actors import Actor
from core.clock import LOCAL_TZ, local, local_date

app = typer.Typer(no_args_is_help=True)

AsStaff = Annotated[str, typer.Option("--as", help="Staff id acting (config.yml staff[].id).")]
SYSTEM = Actor.system("cli")  # the station's own machine: sees every village
Day = Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today).")]


def _day(value: str | None, ctx_now: datetime) -> date:
    if value is None:
        return local_date(ctx_now)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BroadcastError("日期格式不对,请用 2026-06-01 这样的格式。", f"bad date {value!r}") from None


@app.command("draft")
@domain_errors
def draft_cmd(
    text: Annotated[str, typer.Argument(help="广播内容")],
    to: Annotated[list[str], typer.Option("--to", help="Village, institute or centre id (repeat).")],
    as_: AsStaff,
    title: Annotated[str | None, typer.Option()] = None,
    plan: Annotated[PlanKind, typer.Option()] = PlanKind.next_slots,
    count: Annotated[int, typer.Option(help="Slots (next_slots) or days (daily).")] = 1,
    at: Annotated[str | None, typer.Option(help="Local time 'YYYY-MM-DD HH:MM' (plan once).")] = None,
    urgent: Annotated[bool, typer.Option("--urgent")] = False,
    voice: Annotated[str | None, typer.Option()] = None,
) -> None:
    """起草一条广播通知 (needs approval before it airs)."""
    ctx = context()
    when = None
    if at:
        try:
            when = datetime.strptime(at, "%Y-%m-%d %H:%M").replace(tzinfo=LOCAL_TZ)
        except ValueError:
            raise BroadcastError("时间格式不对,请用 2026-06-01 18:30。", f"bad time {at!r}") from None
    d = AnnouncementDraft(text, to, title, plan, count, when, Priority.urgent if urgent else Priority.normal, voice)
    a = BroadcastService(ctx).draft(d, Actor.staff(as_))
    console.print(f"已起草第 {a.id} 号广播「{a.title}」,等待审核。播给: {', '.join(a.villages)}")


@app.command("approve")
@domain_errors
def approve_cmd(announcement_id: int, as_: AsStaff) -> None:
    """审核通过 (schedules its airings)."""
    svc = BroadcastService(context())
    a = svc.approve(announcement_id, Actor.staff(as_))
    full = svc.announcement(a.id, Actor.staff(as_))
    console.print(f"第 {a.id} 号广播已审核通过,排了 {len(full.items)} 次播出。")
    for i in sorted(full.items, key=lambda x: x.air_at)[:10]:
        console.print(f"  {i.local_air_at:%m-%d %H:%M} {i.village_id}")


@app.command("reject")
@domain_errors
def reject_cmd(announcement_id: int, reason: str, as_: AsStaff) -> None:
    """审核不通过."""
    a = BroadcastService(context()).reject(announcement_id, Actor.staff(as_), reason)
    console.print(f"第 {a.id} 号广播已退回:{reason}")


@app.command("list")
@domain_errors
def list_cmd(as_: AsStaff, status: Annotated[AnnouncementStatus | None, typer.Option()] = None) -> None:
    """列出广播通知."""
    rows = BroadcastService(context()).announcements(Actor.staff(as_), status)
    table = Table("号", "标题", "状态", "紧急", "播给", "起草")
    for a in rows:
        table.add_row(str(a.id), a.title, a.status.label, a.priority.label, ",".join(a.villages),
                      f"{local(a.created_at):%m-%d %H:%M}")  # fmt: skip
    console.print(table)


@app.command("today")
@domain_errors
def today_cmd(village: Annotated[str | None, typer.Option("--village")] = None, day: Day = None) -> None:
    """今天各村大喇叭播什么 (the day's items, air order)."""
    ctx = context()
    d = _day(day, ctx.clock())
    items = BroadcastService(ctx).day(d, SYSTEM, village)
    table = Table("村", "时间", "类型", "标题", "状态", "声音", "文件")
    for i in items:
        voice = "备用语音" if i.fallback_voice else i.voice
        table.add_row(i.village_id, i.hhmm, "通知" if i.kind == "announcement" else "节目", i.title,
                      i.state.label, voice, i.audio_path or "")  # fmt: skip
    console.print(table)
    if not items:
        console.print("这一天还没有排节目。运行 `xiangyin broadcasts generate` 生成。")


@app.command("generate")
@domain_errors
def generate_cmd(village: Annotated[str | None, typer.Option("--village")] = None, day: Day = None) -> None:
    """马上生成一天的 MP3 和播放列表 (plans programmes first)."""
    ctx = context()
    d = _day(day, ctx.clock())
    svc = BroadcastService(ctx)
    columns = (TextColumn("生成 {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"{d}", total=None)
        made = asyncio.run(
            svc.generate_day(d, village, lambda done, total: progress.update(task, completed=done, total=total))
        )
    if made.counts:
        labels = "、".join(f"{ItemState(state).label} {n} 条" for state, n in sorted(made.counts.items()))
        console.print(f"完成:{labels};音频在 {svc.audio_root / d.isoformat()}")
    elif made.slots_left == 0:
        tomorrow = local_date(ctx.clock()) + timedelta(days=1)
        console.print(
            f"{d:%Y-%m-%d} 的播出时间都已经过了,没有要生成的。"
            f"要生成明天的,请用 `xiangyin broadcasts generate --date {tomorrow.isoformat()}`。"
        )
    else:
        console.print(f"{d:%Y-%m-%d} 还没播的节目都已经生成好了。用 `xiangyin broadcasts today` 查看。")
    if made.offline_voice:
        console.print("[yellow]注意:在线语音不可用,部分用了备用语音(离线)。[/yellow]")


@app.command("play")
@domain_errors
def play_cmd(
    village: Annotated[str, typer.Option("--village")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print instead of playing.")] = False,
    day: Day = None,
) -> None:
    """按时播放本村今天的广播 (mpg123/ffplay)."""
    ctx = context()
    d = _day(day, ctx.clock())
    svc = BroadcastService(ctx)
    player_actor = Actor.system("player")
    items = [i for i in svc.day(d, player_actor, village) if i.state in (ItemState.ready, ItemState.aired)]
    player = shutil.which("mpg123") or shutil.which("ffplay")
    if not dry_run and player is None:
        raise BroadcastError("没有找到播放器,请安装 mpg123。", "no mpg123/ffplay on PATH")
    for i in items:
        path = svc.audio_root / (i.audio_path or "")
        wait = (i.air_at - ctx.clock()).total_seconds()
        if dry_run:
            console.print(f"{i.hhmm} 播放 {path}" + (" (已过时间)" if wait < 0 else ""))
            continue
        if wait < -60 * ctx.config.broadcasts.air_grace_minutes:
            continue
        if wait > 0:
            console.print(f"等到 {i.hhmm} 播放「{i.title}」…")
            time.sleep(wait)
        args = [player, "-q", str(path)] if player.endswith("mpg123") else [player, "-nodisp", "-autoexit", str(path)]
        subprocess.run(args, check=False)
        # Marked by the runtime or an operator meanwhile: nothing to do.
        with contextlib.suppress(IllegalTransition):
            svc.mark_aired(i.id, player_actor)
