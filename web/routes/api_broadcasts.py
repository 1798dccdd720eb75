"""/api for broadcasts: announcements, a village's day, marking aired, and audio files."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from broadcasts.models import AnnouncementStatus, PlanKind, Priority
from broadcasts.service import AnnouncementDraft
from broadcasts.views import AnnouncementView, ItemView
from core.config import Role
from web.auth import ApiUser, Forbidden
from web.doors import broadcasts_of
from web.files import BadAudioPath, media_type, playlists_for, resolve_audio
from web.schemas import Out, Problem, ReasonIn, from_view

router = APIRouter(prefix="/api", tags=["broadcasts"])
VillageId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,47}$")]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


ItemOut = from_view(
    "ItemOut",
    ItemView,
    "id village_id air_at title kind priority state fallback_voice duration_seconds announcement_id",
    local_time=(str, lambda i: i.hhmm),
    state_label=(str, lambda i: i.state.label),
    audio_url=(str | None, lambda i: f"/api/audio/{i.audio_path}" if i.audio_path else None),
)
AnnouncementOut = from_view(
    "AnnouncementOut",
    AnnouncementView,
    "id title text audience villages plan_at priority status created_at approved_at reject_reason",
    plan=(PlanKind, lambda a: a.plan_kind),  # API names of plan_kind and plan_count
    count=(int, lambda a: a.plan_count),
    status_label=(str, lambda a: a.status.label),
    items=(list[ItemOut], lambda a: [ItemOut.of(i) for i in a.items]),
)


class AnnouncementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=1000)
    audience: list[Annotated[str, Field(max_length=48)]] = Field(min_length=1, max_length=20)
    title: str | None = Field(default=None, max_length=60)
    plan: PlanKind = PlanKind.next_slots
    count: int = Field(default=2, ge=1, le=14)
    at: datetime | None = None
    priority: Priority = Priority.normal


class DayOut(Out):
    village_id: str
    date: date
    items: list[ItemOut]
    playlists: list[str]


WRITE_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": Problem}, 409: {"model": Problem}, 422: {"model": Problem},
}  # fmt: skip


def _editor(user: ApiUser) -> None:
    if not (user.has(Role.admin) or user.has(Role.approver)):
        raise Forbidden("公告只有管理员和审核员能看。")


@router.get("/announcements", response_model=list[AnnouncementOut])
def announcements(
    request: Request, user: ApiUser, status: AnnouncementStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AnnouncementOut]:  # fmt: skip
    _editor(user)
    found = broadcasts_of(request).announcements(user.actor, status=status, limit=limit)
    return [AnnouncementOut.of(a) for a in found]


@router.post("/announcements", response_model=AnnouncementOut, status_code=201, responses=WRITE_ERRORS)
def create(request: Request, user: ApiUser, body: AnnouncementIn) -> AnnouncementOut:
    user.require(Role.admin)
    if body.at is not None and body.at.tzinfo is None:
        return JSONResponse({"detail": "时间要带时区。"}, 422)  # type: ignore[return-value]
    draft = AnnouncementDraft(
        text=body.text, audience=body.audience, title=body.title, plan=body.plan, count=body.count,
        at=body.at, priority=body.priority, voice=None,
    )  # fmt: skip
    return AnnouncementOut.of(broadcasts_of(request).draft(draft, user.actor))


@router.get("/announcements/{announcement_id}", response_model=AnnouncementOut, responses={404: {"model": Problem}})
def announcement(request: Request, user: ApiUser, announcement_id: Id) -> AnnouncementOut:
    _editor(user)
    return AnnouncementOut.of(broadcasts_of(request).announcement(announcement_id, user.actor))


@router.post("/announcements/{announcement_id}/approve", response_model=AnnouncementOut, responses=WRITE_ERRORS)
def approve(request: Request, user: ApiUser, announcement_id: Id) -> AnnouncementOut:
    user.require(Role.approver)
    svc = broadcasts_of(request)
    svc.announcement(announcement_id, user.actor)
    return AnnouncementOut.of(svc.approve(announcement_id, user.actor))


@router.post("/announcements/{announcement_id}/reject", response_model=AnnouncementOut, responses=WRITE_ERRORS)
def reject(request: Request, user: ApiUser, announcement_id: Id, body: ReasonIn) -> AnnouncementOut:
    user.require(Role.approver)
    svc = broadcasts_of(request)
    svc.announcement(announcement_id, user.actor)
    return AnnouncementOut.of(svc.reject(announcement_id, user.actor, reason=body.reason))


@router.get("/villages/{village_id}/days/{day}", response_model=DayOut)
def village_day(request: Request, user: ApiUser, village_id: VillageId, day: date) -> DayOut:
    if village_id not in user.villages:
        raise Forbidden("这个村不归您管。")
    svc = broadcasts_of(request)
    items = svc.day(day, user.actor, village_id)
    lists = [f"/api/audio/{p}" for p in playlists_for(svc, day, village_id)]
    return DayOut(village_id=village_id, date=day, items=[ItemOut.of(i) for i in items], playlists=lists)


@router.post("/items/{item_id}/aired", status_code=204, responses=WRITE_ERRORS)
def item_aired(request: Request, user: ApiUser, item_id: Id) -> Response:
    broadcasts_of(request).mark_aired(item_id, user.actor)  # domain errors: 404 / 403 / 409
    return Response(status_code=204)


@router.get(
    "/audio/{path:path}",
    response_class=FileResponse,
    responses={200: {"content": {"audio/mpeg": {}, "audio/x-mpegurl": {}}}, 404: {"model": Problem}},
)
def audio(request: Request, user: ApiUser, path: str, download: bool = False) -> Response:
    """An MP3 or M3U under audio_out/<date>/<village>/, for villages the caller covers."""
    try:
        file, village = resolve_audio(broadcasts_of(request), path)
    except BadAudioPath:
        return JSONResponse({"detail": "没有这个文件。"}, 404)
    if village not in user.villages:
        raise Forbidden("这个村不归您管。")
    return FileResponse(
        file, media_type=media_type(file), filename=file.name if download else None,
        content_disposition_type="attachment" if download else "inline",
    )  # fmt: skip
