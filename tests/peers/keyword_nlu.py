"""A small deterministic NLU with the NluClient protocol, for unit tests of the dialogue engine.

Entities come from the NLU room's own deterministic normaliser; intents from keywords.
End-to-end tests use the real Rasa sidecar (tests.peers.rasa) instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.config import AppConfig
from nlu.normalise import Normaliser
from nlu.result import NluResult


class KeywordNlu:
    RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("cancel_order", ("不要了", "撤销", "取消")),
        ("check_order", ("有人接没", "查单", "怎么样了")),
        ("rate_order", ("不错", "满意", "颗星")),
        ("volunteer_signup", ("志愿者",)),
        ("talk_to_staff", ("工作人员",)),
        ("ask_menu", ("啥服务", "菜单")),
        ("ask_broadcast", ("大喇叭", "广播")),
        ("thanks", ("谢谢",)),
        ("goodbye", ("拜拜", "再见")),
        ("greet", ("你好", "在不在")),
        ("deny", ("不对", "不用", "不要")),
        ("affirm", ("对的", "好的", "是的", "没错")),
    )

    def __init__(self, config: AppConfig) -> None:
        self.normaliser = Normaliser(config)
        self.down = False  # True: answer as if the sidecar were unreachable
        self.calls = 0

    async def parse(self, text: str, received_at: datetime | None = None) -> NluResult:
        self.calls += 1
        at = received_at or datetime.now(UTC)
        e = self.normaliser.entities(text, [], at)
        if self.down:
            return NluResult(text, "nlu_fallback", 0.0, e, "unreachable")
        intent = next((name for name, words in self.RULES if any(w in text for w in words)), None)
        if intent is None:
            intent = "request_service" if e.service else "nlu_fallback"
        return NluResult(text, intent, 0.9, e, None if intent != "nlu_fallback" else "low_confidence")
