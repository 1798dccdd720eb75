"""The bulletin archive (有记录、有档案): each bulletin's files under `reports.archive_dir`
(`<area>/<period>/<area>-<period>.pdf|xlsx|csv`, written temp-then-rename) and one row in
`bulletins`, unique per area and period. The 1st-of-month job is `monthly_bulletins(ctx, now)`:
idempotent, so a re-run, a second instance or a restart never makes a second copy."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.actors import Actor
from core.app import AppContext
from core.config import PROJECT_ROOT, AppConfig, Role, Staff
from core.errors import InvalidInput, NotFound
from core.files import write_atomic
from core.snapshot import Snapshot
from reports.bulletin import Bulletin, make_bulletin
from reports.export import FORMATS, RENDERERS
from reports.figures import ReportQueries
from reports.models import Bulletin as BulletinRow
from reports.period import Area, Period, report_areas
from reports.points import PointsLedger

log = logging.getLogger(__name__)
Progress = Callable[[str], None]  # told each step as it starts ("figures", "pdf", …)
SYSTEM = Actor.system("reports")


@dataclass(frozen=True)
class ArchivedBulletin(Snapshot):
    id: int
    area_id: str
    period_start: date
    period_end: date
    title: str
    files: dict[str, str]
    headline: dict[str, float | int | None]
    created_at: datetime
    created_by: str
    sent_at: datetime | None

    @property
    def period(self) -> Period:
        return Period(self.period_start, self.period_end)


def archive_dir(config: AppConfig) -> Path:
    path = Path(config.reports.archive_dir)
    return path if path.is_absolute() else PROJECT_ROOT / path


def file_name(area: Area, period: Period, fmt: str) -> str:
    return f"{area.id}-{period.slug}.{fmt}"


def build(ctx: AppContext, area: Area, period: Period, progress: Progress | None = None) -> Bulletin:
    """Figures (after an award pass, so points are current) and the bulletin with its charts."""
    step = progress or (lambda _: None)
    step("points")
    PointsLedger(ctx.db, ctx.config, ctx.clock).award_pass()
    step("figures")
    figures = ReportQueries(ctx.db, ctx.config).figures(area, period)
    step("charts")
    return make_bulletin(ctx.config, figures, ctx.clock())


def render(bulletin: Bulletin, fmt: str, progress: Progress | None = None) -> bytes:
    if fmt not in RENDERERS:
        raise InvalidInput(f"不支持这种格式:{fmt}(可以用 pdf、xlsx、csv)。", f"unknown format {fmt!r}")
    if progress:
        progress(fmt)
    return RENDERERS[fmt](bulletin)


class BulletinArchive:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.root = archive_dir(ctx.config)

    def make(
        self, area: Area, period: Period, actor: Actor = SYSTEM, progress: Progress | None = None
    ) -> ArchivedBulletin:
        """Archive the bulletin of the area and period, unless it is archived already."""
        existing = self.find(area.id, period)
        if existing is not None:
            return existing
        bulletin = build(self.ctx, area, period, progress)
        files = {}
        for fmt in FORMATS:
            relative = f"{area.id}/{period.slug}/{file_name(area, period, fmt)}"
            write_atomic(self.root / relative, render(bulletin, fmt, progress))
            files[fmt] = relative
        try:
            with self.ctx.db.session() as s:
                row = BulletinRow(
                    area_id=area.id, period_start=period.start, period_end=period.end, title=bulletin.title,
                    files=files, headline=bulletin.figures.headline(), created_at=self.ctx.clock(),
                    created_by=actor.label,
                )  # fmt: skip
                s.add(row)
                s.flush()
                return ArchivedBulletin.of(row)
        except IntegrityError:
            # Another instance archived it meanwhile (same files, same names): keep theirs.
            found = self.find(area.id, period)
            assert found is not None
            return found

    def find(self, area_id: str, period: Period) -> ArchivedBulletin | None:
        with self.ctx.db.session() as s:
            row = s.scalar(
                select(BulletinRow).where(
                    BulletinRow.area_id == area_id,
                    BulletinRow.period_start == period.start,
                    BulletinRow.period_end == period.end,
                )
            )
            return ArchivedBulletin.of(row) if row else None

    def list(self, actor: Actor, limit: int = 200) -> list[ArchivedBulletin]:
        """Newest first, only of the areas the actor may read."""
        areas = [a.id for a in report_areas(self.ctx.config, actor)]
        with self.ctx.db.session() as s:
            rows = s.scalars(
                select(BulletinRow)
                .where(BulletinRow.area_id.in_(areas))
                .order_by(BulletinRow.period_start.desc(), BulletinRow.id)
                .limit(limit)
            )
            return [ArchivedBulletin.of(r) for r in rows]

    def get(self, bulletin_id: int, actor: Actor) -> ArchivedBulletin:
        with self.ctx.db.session() as s:
            row = s.get(BulletinRow, bulletin_id)
            found = ArchivedBulletin.of(row) if row else None
        if found is None or found.area_id not in {a.id for a in report_areas(self.ctx.config, actor)}:
            raise NotFound("没有找到这份月报。", f"{actor.label}: no bulletin {bulletin_id} for them")
        return found

    def file(self, bulletin_id: int, fmt: str, actor: Actor) -> Path:
        bulletin = self.get(bulletin_id, actor)
        if fmt not in bulletin.files:
            raise NotFound("这份月报没有这种格式。", f"bulletin {bulletin_id} has no {fmt!r}")
        path = self.path(bulletin, fmt).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            raise NotFound("月报文件找不到了,请重新生成。", f"missing file {bulletin.files[fmt]}")
        return path

    # ------------------------------------------------------------ delivery to admins
    def unsent(self) -> list[ArchivedBulletin]:
        with self.ctx.db.session() as s:
            rows = s.scalars(select(BulletinRow).where(BulletinRow.sent_at.is_(None)).order_by(BulletinRow.id))
            return [ArchivedBulletin.of(r) for r in rows]

    def path(self, bulletin: ArchivedBulletin, fmt: str) -> Path:
        return self.root / bulletin.files[fmt]

    def mark_sent(self, bulletin_id: int) -> bool:
        """True for the one caller that marks it (several instances may try)."""
        with self.ctx.db.session() as s:
            result = s.execute(
                update(BulletinRow)
                .where(BulletinRow.id == bulletin_id, BulletinRow.sent_at.is_(None))
                .values(sent_at=self.ctx.clock())
            )
            return result.rowcount == 1


def recipients(config: AppConfig, area_id: str) -> list[Staff]:
    """Whom a bulletin is sent to: the admins whose own areas list that area."""
    return [s for s in config.staff if Role.admin in s.roles and area_id in s.areas]


def monthly_areas(config: AppConfig) -> list[Area]:
    """Who gets a bulletin on the 1st: `reports.monthly_areas`, else the county and each township."""
    ids = config.reports.monthly_areas or [config.centre.id, *config.institutes]
    return [Area.of(config, a) for a in ids]


def monthly_bulletins(ctx: AppContext, now: datetime, areas: Iterable[Area] | None = None) -> list[ArchivedBulletin]:
    """The 1st-of-month job: last month's bulletin for every area, archived once. Safe to run
    at any time and any number of times (it fills in what is missing)."""
    period = Period.previous_month(now)
    made = []
    for area in areas or monthly_areas(ctx.config):
        made.append(BulletinArchive(ctx).make(area, period))
        log.info("reports: bulletin %s %s archived", area.id, period.slug)
    return made
