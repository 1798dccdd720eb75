"""What the bot says: short, warm, plain Chinese; no jargon, no English."""

from __future__ import annotations

from datetime import datetime

from bot.timeslots import describe
from core.config import AppConfig
from orders import OrderStatus, OrderView

GREETING = "您好!我是乡音小助手。想请人上门帮忙,直接跟我说就行,比如“明天上午来给俺娘理个发”。也可以按下面的按钮。"
THANKS = "不客气!有事随时找我。"
GOODBYE = "好的,再见!有事随时找我。"
NOT_UNDERSTOOD = "我没太听明白。您可以换个说法,或者按下面的按钮。"
NLU_DOWN = "我这会儿认字有点困难,请按下面的按钮来选,一样能点单。"
UNSUPPORTED = "我现在只认得文字和按钮。请打字告诉我,或者按下面的按钮。"
VOICE_NOT_HEARD = "这段语音我没听清。请再说一遍,或者打字告诉我,也可以按下面的按钮。"
YOUR_ID = "您的用户编号是:{key}\n要加入服务队或当工作人员,请把这个编号告诉站里的专干。"
TOO_LONG = "您发的字太多了,请用一两句话告诉我要办什么事。"
STALE = "这个按钮已经过期了,请按最新消息里的按钮。"
FORBIDDEN = "抱歉,这个按钮不是给您的。"
STAFF_ONLY = "抱歉,这个功能只有工作人员能用。"
ERROR = "不好意思,刚才出了点小问题,请再试一次。"

ASK_THEME = "您想要哪一类服务?"
ASK_SERVICE = "请选一个服务:"
ASK_VILLAGE = "您在哪个村?"
ASK_TIME = "您想什么时候来?"
ASK_COUNT = "一共有几个人需要服务?直接打数字也行。"
ASK_PHONE = "本村点单要留一个联系电话,请打出 11 位手机号。"
ASK_FIX = "哪一项不对?点一下要改的那项。"
ASK_COMMENT = "谢谢您的{stars}颗星!还想说两句吗?直接打字告诉我,或者按“不写了”。"
ASK_SERVED = "辛苦了!这次一共服务了几个人?点数字,或者直接打出来。"
ASK_ANNOUNCE = "请把要广播的内容打出来,我帮您交给审核。"
DRAFT_DROPPED = "好的,这次不点了。有需要再找我。"
RESUME = "刚才的点单还没办完,咱们接着来:"


def service_name(config: AppConfig, service_id: str | None) -> str:
    service = config.services.get(service_id or "")
    return service.name if service else "(未选)"


def village_name(config: AppConfig, village_id: str | None) -> str:
    village = config.villages.get(village_id or "")
    return village.name if village else "(未选)"


def member_name(config: AppConfig, member_id: str | None) -> str:
    member = config.members_by_id.get(member_id or "")
    return member.name if member else "志愿者"


def team_name(config: AppConfig, team_id: str | None) -> str:
    team = config.teams_by_id.get(team_id or "")
    return team.name if team else "服务队"


def order_line(config: AppConfig, order: OrderView, now: datetime) -> str:
    """One line per order in lists: 单号 服务 时间 —— 状态."""
    return f"{order_title(config, order, now)} —— {status_text(config, order)}"


def order_title(config: AppConfig, order: OrderView, now: datetime) -> str:
    when = describe(order.window_start, order.window_end, now)
    return f"{order.display_number} {service_name(config, order.service_id)} {when}"


def status_text(config: AppConfig, order: OrderView) -> str:
    if order.status is OrderStatus.accepted:
        return f"{order.status.label}({member_name(config, order.volunteer_id)})"
    return order.status.label


def order_card(config: AppConfig, order: OrderView, now: datetime, *, phone: bool = False) -> str:
    """The details a volunteer needs to go: what, where, when, how many (and whom to call)."""
    lines = [
        f"单号:{order.display_number}",
        f"服务:{service_name(config, order.service_id)}",
        f"地点:{village_name(config, order.village_id)}",
        f"时间:{describe(order.window_start, order.window_end, now)}",
        f"人数:{order.people_count}人",
    ]
    if phone and order.contact_phone:
        lines.append(f"电话:{order.contact_phone}")
    return "\n".join(lines)


def stars(n: int) -> str:
    return "⭐" * n
