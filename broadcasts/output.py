"""audio_out/: `<date>/<village>/<HHMM>_<slug>.mp3` and `<date>/<village>.m3u` (air order).

Every file is written to a temporary name in the same folder, fsynced and renamed, so an
operator's player never sees half a file, even if the process dies mid-write.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from sqlalchemy import select

from broadcasts.models import BroadcastItem, ItemKind, ItemState
from core.app import AppContext
from core.clock import day_bounds, local, local_date
from core.config import PROJECT_ROOT, AppConfig
from core.files import write_atomic as write_atomic  # re-exported for the generator

IN_PLAYLIST = (ItemState.ready, ItemState.aired)


def audio_dir(config: AppConfig) -> Path:
    path = Path(config.broadcasts.audio_dir)
    return path if path.is_absolute() else PROJECT_ROOT / path


def cache_dir(config: AppConfig) -> Path:
    if config.broadcasts.cache_dir:
        path = Path(config.broadcasts.cache_dir)
        return path if path.is_absolute() else PROJECT_ROOT / path
    return audio_dir(config) / ".cache"


def slug(item: BroadcastItem) -> str:
    if item.kind == ItemKind.announcement:
        return f"notice{item.announcement_id}"
    return re.sub(r"[^a-z0-9]+", "-", (item.script_id or f"item{item.id}").lower()).strip("-")


def relative_path(item: BroadcastItem) -> str:
    """`<date>/<village>/<HHMM>_<slug>.mp3`, relative to the audio folder."""
    when = local(item.air_at)
    return f"{when:%Y-%m-%d}/{item.village_id}/{when:%H%M}_{slug(item)}.mp3"


def playlist_path(config: AppConfig, village_id: str, day: date) -> Path:
    return audio_dir(config) / f"{day:%Y-%m-%d}" / f"{village_id}.m3u"


def clean_temporaries(root: Path) -> int:
    """Temporary files left by a crash mid-write (never listed, never played)."""
    removed = 0
    if root.exists():
        for tmp in root.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def write_playlist(ctx: AppContext, village_id: str, day: date) -> Path:
    """The village's M3U for the day: every ready/aired clip in air order."""
    from broadcasts.schedule import air_order

    start, end = day_bounds(day)
    with ctx.db.session() as s:
        items = list(
            s.scalars(
                select(BroadcastItem).where(
                    BroadcastItem.village_id == village_id,
                    BroadcastItem.air_at >= start,
                    BroadcastItem.air_at < end,
                    BroadcastItem.state.in_([st.value for st in IN_PLAYLIST]),
                    BroadcastItem.audio_path.is_not(None),
                )
            )
        )
    lines = ["#EXTM3U", f"#PLAYLIST:{village_id} {day:%Y-%m-%d}"]
    for item in sorted(items, key=air_order):
        seconds = round(item.duration_seconds or -1)
        flag = " (备用语音)" if item.fallback_voice else ""
        lines.append(f"#EXTINF:{seconds},{local(item.air_at):%H:%M} {item.title}{flag}")
        lines.append(Path(item.audio_path or "").relative_to(f"{day:%Y-%m-%d}").as_posix())
    path = playlist_path(ctx.config, village_id, day)
    write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return path


def forget_items(ctx: AppContext, items: Iterable[BroadcastItem]) -> None:
    """Remove the files of cancelled items and rewrite the playlists they were in."""
    touched: set[tuple[str, date]] = set()
    for item in items:
        if item.audio_path:
            (audio_dir(ctx.config) / item.audio_path).unlink(missing_ok=True)
            touched.add((item.village_id, local_date(item.air_at)))
    for village_id, day in touched:
        write_playlist(ctx, village_id, day)
