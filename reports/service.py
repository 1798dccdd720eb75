"""The one door of the reports room: every front end (console, bot, CLI) reads figures,
bulletins, exports, the archive and points through `ReportService`, with the actor's rights
checked here (admins: their own areas only; volunteers: their own points)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.actors import Actor, ActorKind
from core.app import AppContext
from core.errors import PermissionDenied
from reports.archive import ArchivedBulletin, BulletinArchive, Progress, build, file_name, render
from reports.bulletin import Bulletin
from reports.figures import Figures, ReportQueries
from reports.models import Rule
from reports.period import Area, Period, report_areas, resolve_area
from reports.points import Holder, PointsLedger


@dataclass(frozen=True)
class VolunteerSummary:
    """What a volunteer sees with “我的积分”: balance, this month and all time."""

    member_id: str
    name: str
    balance: int
    month_points: int
    month_deliveries: int
    month_hours: float
    total_deliveries: int
    total_hours: float


class ReportService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.queries = ReportQueries(ctx.db, ctx.config)
        self.points = PointsLedger(ctx.db, ctx.config, ctx.clock)
        self.archive = BulletinArchive(ctx)

    def current_points(self) -> PointsLedger:
        """The ledger with every award so far booked (the award pass first: it is cheap when
        nothing is new), for pages that show balances."""
        self.points.award_pass()
        return self.points

    def areas(self, actor: Actor) -> list[Area]:
        return report_areas(self.ctx.config, actor)

    def area(self, actor: Actor, area_id: str | None) -> Area:
        return resolve_area(self.ctx.config, actor, area_id)

    def figures(self, actor: Actor, area_id: str | None, period: Period, *, trend_months: int = 12) -> Figures:
        return self.queries.figures(self.area(actor, area_id), period, trend_months=trend_months)

    def bulletin(self, actor: Actor, area_id: str | None, period: Period, progress: Progress | None = None) -> Bulletin:
        return build(self.ctx, self.area(actor, area_id), period, progress)

    def export(
        self, actor: Actor, area_id: str | None, period: Period, fmt: str, progress: Progress | None = None
    ) -> tuple[str, bytes]:
        """(file name, content) of the bulletin in pdf, xlsx or csv."""
        area = self.area(actor, area_id)
        bulletin = build(self.ctx, area, period, progress)
        return file_name(area, period, fmt), render(bulletin, fmt, progress)

    def archive_bulletin(self, actor: Actor, area_id: str | None, period: Period) -> ArchivedBulletin:
        return self.archive.make(self.area(actor, area_id), period, actor)

    def volunteer_summary(self, actor: Actor, now: datetime | None = None) -> VolunteerSummary:
        if actor.kind is not ActorKind.volunteer:
            raise PermissionDenied("只有志愿者有服务积分。", f"{actor.label} is not a volunteer")
        self.current_points()
        month = Period.month_of(now or self.ctx.clock())
        since, until = month.bounds()
        deliveries = self.queries.deliveries(actor.id)
        this_month = [hours for at, hours in deliveries if since <= at < until]
        history = self.points.history(Holder.volunteer(actor.id), actor, limit=1000)
        names = {m.id: m.name for _, m in self.ctx.config.members()}
        return VolunteerSummary(
            member_id=actor.id, name=names.get(actor.id, actor.id),
            balance=self.points.balance(Holder.volunteer(actor.id)),
            month_points=sum(e.points for e in history if since <= e.at < until and e.rule is not Rule.redeem),
            month_deliveries=len(this_month), month_hours=round(sum(this_month), 2),
            total_deliveries=len(deliveries), total_hours=round(sum(h for _, h in deliveries), 2),
        )  # fmt: skip
