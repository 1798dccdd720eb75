"""Serving broadcast audio safely: only regular files under audio_out/, only of villages the
person covers, only `<date>/<village>/<file>.mp3` and `<date>/<village>.m3u` (the layout of
broadcasts/output.py). The URL path is checked part by part and the resolved path must stay
inside the audio root (no '..', no symlink escapes)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from broadcasts.service import BroadcastService

DATE_PART = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FILE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,120}\.mp3$")
MEDIA_TYPES = {".mp3": "audio/mpeg", ".m3u": "audio/x-mpegurl"}


class BadAudioPath(Exception):
    """Not a file the console serves (the caller answers 404 without saying why)."""


def _valid_day(text: str) -> bool:
    if not DATE_PART.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def resolve_audio(broadcasts: BroadcastService, relative: str) -> tuple[Path, str]:
    """Return (absolute path, village id) for a servable file, else raise BadAudioPath."""
    config = broadcasts.ctx.config
    parts = relative.split("/")
    if not parts or not _valid_day(parts[0]):
        raise BadAudioPath(relative)
    if len(parts) == 2 and parts[1].endswith(".m3u") and parts[1][:-4] in config.villages:
        village = parts[1][:-4]
    elif len(parts) == 3 and parts[1] in config.villages and FILE_PART.match(parts[2]):
        village = parts[1]
    else:
        raise BadAudioPath(relative)
    root = broadcasts.audio_root.resolve()
    path = root.joinpath(*parts).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise BadAudioPath(relative)
    return path, village


def media_type(path: Path) -> str:
    return MEDIA_TYPES[path.suffix.lower()]


def playlists_for(broadcasts: BroadcastService, day: date, village: str) -> list[str]:
    """The day's M3U of one village, relative to the audio root, if it has been written."""
    return [f"{day.isoformat()}/{village}.m3u"] if broadcasts.playlist(village, day) else []
