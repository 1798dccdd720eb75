"""“今天大喇叭播了啥”: today's loudspeaker programme of the resident's village, with the
recordings that are ready, so somebody who was out in the fields can still hear them."""

from __future__ import annotations

from bot.actions import Action
from bot.messages import Audio
from bot.turn import Turn, rows_of
from broadcasts.models import ItemState
from broadcasts.service import BroadcastService
from core.clock import local_date

MAX_RECORDINGS = 3  # more would flood an old person's chat; the list names the rest
STATE_WORDS = {ItemState.aired: "已播", ItemState.missed: "没播成", ItemState.failed: "没播成"}


def today(turn: Turn, village_id: str | None = None) -> None:
    village_id = village_id or turn.conv.profile.get("village")
    village = turn.config.villages.get(village_id or "")
    if village is None:
        buttons = [turn.button(v.name, Action.hear_broadcast, v.id) for v in turn.config.villages.values()]
        turn.say("您是哪个村的?我把那个村今天的大喇叭念给您听。", rows_of(buttons, 3))
        return
    turn.conv.profile["village"] = village.id
    broadcasts = BroadcastService(turn.ctx)
    items = broadcasts.programme(local_date(turn.now), village.id)
    if not items:
        turn.say(f"{village.name}今天没有安排大喇叭广播。", turn.menu_rows())
        return
    lines = [f"{village.name}今天的大喇叭:"]
    lines += [f"{i.hhmm} {i.title}({STATE_WORDS.get(i.state, '待播')})" for i in items]
    recordings = [(i, path) for i in items if (path := broadcasts.recording(i)) is not None]
    if recordings:
        lines.append("已经录好的,点下面的声音就能听。")
    turn.say("\n".join(lines))
    for item, path in recordings[:MAX_RECORDINGS]:
        turn.out.say(f"{item.hhmm} {item.title}", audio=Audio(str(path), item.title))
