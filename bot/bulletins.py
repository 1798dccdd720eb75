"""Monthly bulletins (月报) to the area's admins in Telegram: the archived PDF as a document.

A bulletin is marked sent after every admin of its area was tried; a crash in between sends
it again to some (at most once more), never loses it. Admins who blocked the bot are skipped."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, TelegramError

from core.app import AppContext
from core.lease import Lease
from reports.archive import ArchivedBulletin, BulletinArchive, recipients

log = logging.getLogger(__name__)
RunDb = Callable[..., Awaitable[Any]]


def caption(bulletin: ArchivedBulletin) -> str:
    h = bulletin.headline
    text = (
        f"{bulletin.title}\n点单 {h.get('placed', 0)} 个,完成 {h.get('fulfilled', 0)} 个,"
        f"服务群众 {h.get('people_served', 0)} 人次。Excel 表在网页后台的“月报”里下载。"
    )
    return text[: MessageLimit.CAPTION_LENGTH]


async def deliver_bulletins(ctx: AppContext, bot: Bot, run_db: RunDb, lease: Lease | None = None) -> int:
    """Send every archived bulletin not sent yet; returns how many went out. Stops (to retry
    later) when Telegram cannot be reached, or when this instance no longer holds `lease`
    (several instances: renewed before each bulletin, so two never send the same one)."""
    archive = BulletinArchive(ctx)
    delivered = 0
    for bulletin in await run_db(archive.unsent):
        if lease is not None and not await run_db(lease.acquire):
            return delivered
        pdf = archive.path(bulletin, "pdf")
        for person in recipients(ctx.config, bulletin.area_id):
            if person.telegram_id is None:
                continue
            try:
                await bot.send_document(person.telegram_id, document=pdf, filename=pdf.name, caption=caption(bulletin))
            except (BadRequest, Forbidden) as exc:
                log.warning(
                    "telegram: bulletin %d not delivered to %s (%s)", bulletin.id, person.id, type(exc).__name__
                )
            except TelegramError as exc:
                log.warning("telegram: bulletin delivery failed, will retry (%s)", type(exc).__name__)
                return delivered
        if await run_db(archive.mark_sent, bulletin.id):
            delivered += 1
    return delivered
