"""A province-sized day in small: each distinct (text, voice) is voiced and mastered once and
shared by every village airing it, as tagged copies or as hard links to one file per clip;
mastering in a process pool gives the same audio."""

from __future__ import annotations

import io
import multiprocessing
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import mutagen
from bc_support import make_ctx

from broadcasts.generate import Generator
from broadcasts.output import audio_dir, playlist_path
from broadcasts.schedule import ScheduleService
from broadcasts.views import ItemView
from core.actors import Actor
from core.app import AppContext
from core.clock import local
from core.config import AppConfig
from core.db import Database

SYSTEM = Actor.system("test")


def voiced_day(ctx: AppContext, gen: Generator) -> list[ItemView]:
    day = local(ctx.clock()).date() + timedelta(days=1)
    return ScheduleService(ctx).day(day, SYSTEM)


def distinct_voicings(ctx: AppContext, items: list[ItemView]) -> set[tuple[str, str, str]]:
    return {(i.text, i.voice, ctx.config.villages[i.village_id].offline_language) for i in items}


async def test_each_distinct_clip_is_voiced_once_and_every_village_gets_its_tagged_copy(
    config: AppConfig, sqlite_db: Database, tmp_path: Path
) -> None:
    ctx = make_ctx(config, sqlite_db, tmp_path, edge_enabled=False)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        gen = Generator(ctx, master_pool=pool)
        counts = await gen.generate_day(local(ctx.clock()).date() + timedelta(days=1))
    items = voiced_day(ctx, gen)
    assert counts == {"ready": len(items)} and len(items) > len(distinct_voicings(ctx, items))
    assert gen.stats.voicings_made == len(distinct_voicings(ctx, items))
    assert gen.stats.voicings_made + gen.stats.voicings_reused == len(items)
    root = audio_dir(ctx.config)
    frames: dict[tuple[str, str, str], set[bytes]] = defaultdict(set)
    for item in items:
        data = (root / (item.audio_path or "")).read_bytes()
        tags = mutagen.File(io.BytesIO(data)).tags  # type: ignore[union-attr]
        assert str(tags["TXXX:village"]) == item.village_id and str(tags["TXXX:item_id"]) == str(item.id)
        tag_size = 10 + int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big")  # ID3v2 syncsafe size
        frames[(item.text, item.voice, ctx.config.villages[item.village_id].offline_language)].add(data[tag_size:])
    # Villages airing the same clip got the very same MP3 frames: one master, many tags.
    assert all(len(audio) == 1 for audio in frames.values())


async def test_linked_village_files_share_one_file_per_clip(
    config: AppConfig, sqlite_db: Database, tmp_path: Path
) -> None:
    ctx = make_ctx(config, sqlite_db, tmp_path, edge_enabled=False, village_files="linked")
    gen = Generator(ctx)
    await gen.generate_day(local(ctx.clock()).date() + timedelta(days=1))
    items = voiced_day(ctx, gen)
    root = audio_dir(ctx.config)
    inodes: dict[int, list[ItemView]] = defaultdict(list)
    for item in items:
        inodes[(root / (item.audio_path or "")).stat().st_ino].append(item)
    # Offline, villages with different edge voices but one espeak language share a master too.
    assert len(inodes) == gen.stats.masters_made <= gen.stats.voicings_made < len(items)
    day = local(items[0].air_at).date()
    shared = list((root / f"{day:%Y-%m-%d}" / ".shared").glob("*.mp3"))
    assert len(shared) <= len(inodes) and {p.stat().st_ino for p in shared} <= set(inodes)
    for sharing in inodes.values():  # one link per village airing it, plus the shared name
        first = root / (sharing[0].audio_path or "")
        assert first.stat().st_nlink >= len(sharing) + 1
        assert len({i.text for i in sharing}) == 1
    # Each village's playlist still lists its own file.
    for village in {i.village_id for i in items}:
        listed = playlist_path(ctx.config, village, day).read_text(encoding="utf-8")
        for item in (i for i in items if i.village_id == village):
            assert f"{village}/{Path(item.audio_path or '').name}" in listed
