"""A resident's message the NLU missed lands in the review inbox, masked; staff's do not."""

from __future__ import annotations

from tests.bot.conftest import ChatDriver
from tests.peers.keyword_nlu import KeywordNlu


async def test_missed_messages_go_to_the_review_inbox(chat: ChatDriver, keyword_nlu: KeywordNlu) -> None:
    await chat.say("俺家的驴不吃草了 俺电话13800001234")  # the keyword NLU falls back
    await chat.say("理发")  # understood: not kept
    keyword_nlu.down = True
    await chat.say("俺家的鹅不下蛋了")  # Rasa away: not the NLU's miss, not kept
    items = chat.engine.review.items()
    assert [(i.reason, i.predicted_intent) for i in items] == [("fallback", "nlu_fallback")]
    assert "13800001234" not in items[0].text and "【电话】" in items[0].text
