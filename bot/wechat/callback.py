"""The callback protocol of the official account, all crypto by wechatpy.

- URL verification: `GET ?signature&timestamp&nonce&echostr`, answered with echostr when
  signature = sha1(sorted(token, timestamp, nonce)).
- Messages: `POST` XML.  明文 (plain): checked with `signature`.  安全 (safe): `encrypt_type=aes`,
  the body's `<Encrypt>` checked with `msg_signature` and decrypted with the EncodingAESKey;
  the passive reply is encrypted the same way.  兼容 (compatible) accepts both.

A request that fails any check is refused (`Refused`) before anything is read or stored.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from core.clock import Clock, system_clock
from core.config import WeChatSettings

MAX_BODY = 64 * 1024  # a callback is a few hundred bytes of XML


class Refused(Exception):
    """A callback that is not from WeChat (bad signature, wrong mode, garbage)."""


@dataclass(frozen=True)
class Incoming:
    """One callback, stripped of WeChat's XML."""

    openid: str
    account: str  # the official account's own id (ToUserName), the passive reply's sender
    kind: str  # text | voice | click | subscribe | unsubscribe | other
    update_key: str  # de-duplication: MsgId, or the event's user + time + key
    text: str = ""
    menu_choice: int | None = None  # a tapped choice link (bizmsgmenuid)
    media_id: str = ""
    recognition: str = ""  # WeChat's own speech recognition, when the account enabled it
    event_key: str = ""


class CallbackCodec:
    def __init__(self, settings: WeChatSettings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock  # the reply's CreateTime and the encryption's timestamp
        self.token = settings.token or ""
        self.crypto = (
            WeChatCrypto(self.token, settings.encoding_aes_key, settings.app_id) if settings.encoding_aes_key else None
        )

    def _check(self, query: dict[str, str]) -> None:
        try:
            check_signature(self.token, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
        except InvalidSignatureException:
            raise Refused("bad signature") from None

    def verify_url(self, query: dict[str, str]) -> str:
        """The echostr to send back when WeChat checks the callback URL."""
        self._check(query)
        return query.get("echostr", "")

    def read(self, query: dict[str, str], body: bytes) -> tuple[BaseMessage, bool]:
        """The message and whether it came encrypted (then the reply must be too)."""
        if len(body) > MAX_BODY:
            raise Refused("body too large")
        self._check(query)
        encrypted = query.get("encrypt_type", "raw") == "aes"
        if encrypted:
            if self.crypto is None or self.settings.message_mode == "plain":
                raise Refused("encrypted message but no EncodingAESKey / plain mode configured")
            try:
                signature = query.get("msg_signature", "")
                xml = self.crypto.decrypt_message(body, signature, query["timestamp"], query["nonce"])
            except (InvalidSignatureException, InvalidAppIdException):
                raise Refused("bad msg_signature or AppId") from None
            except Exception:  # garbage: expat, base64, padding or key errors from inside wechatpy
                raise Refused("undecryptable body") from None
        else:
            if self.settings.message_mode == "safe":
                raise Refused("plain message but safe mode configured")
            xml = body.decode("utf-8", errors="replace")
        try:
            message = parse_message(xml)
        except Exception:  # xmltodict's ExpatError, a missing MsgType…
            raise Refused("unparseable XML") from None
        if message is None or not message.source:
            raise Refused("no sender")
        return message, encrypted

    def reply(self, message: BaseMessage, text: str, encrypted: bool, nonce: str) -> str:
        # CDATA cannot hold "]]>": a reply echoing what a person said must not break out of it.
        content = text.replace("]]>", "]] >")
        now = int(self.clock().timestamp())
        xml = TextReply(source=message.target, target=message.source, content=content, time=now).render()
        if encrypted and self.crypto is not None:
            return self.crypto.encrypt_message(xml, nonce, now)
        return xml


def incoming(message: BaseMessage) -> Incoming:
    data = message._data  # wechatpy keeps the parsed fields; bizmsgmenuid has no accessor
    kind = message.type
    event = getattr(message, "event", "") if kind == "event" else ""
    base = {"openid": message.source, "account": message.target}
    if kind in ("text", "voice", "image", "video", "shortvideo", "location", "link") and message.id:
        key = f"wx:m:{message.id}"
    else:
        key = f"wx:e:{message.source}:{data.get('CreateTime')}:{data.get('Event', kind)}:{data.get('EventKey') or ''}"
    if kind == "text":
        choice = str(data.get("bizmsgmenuid") or "")
        text = unicodedata.normalize("NFKC", message.content or "")
        return Incoming(
            **base, kind="text", update_key=key, text=text, menu_choice=int(choice) if choice.isdigit() else None
        )
    if kind == "voice":
        recognition = (message.recognition or "").strip()
        return Incoming(**base, kind="voice", update_key=key, media_id=message.media_id or "", recognition=recognition)
    if event in ("subscribe", "subscribe_scan"):
        return Incoming(**base, kind="subscribe", update_key=key)
    if event == "unsubscribe":
        return Incoming(**base, kind="unsubscribe", update_key=key)
    if event == "click":
        return Incoming(**base, kind="click", update_key=key, event_key=str(data.get("EventKey") or ""))
    return Incoming(**base, kind="other", update_key=key)
