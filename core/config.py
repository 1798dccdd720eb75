"""config.yml: the one source of truth, validated with pydantic.

A bad config stops start-up with one message naming the file, the key path and what is
wrong (ConfigError), never a traceback.  Secrets and the database URL may come from
environment variables (XIANGYIN_DATABASE_URL, XIANGYIN_TELEGRAM_TOKEN, RASA_URL …).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config.yml"

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")]
SlotTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class ConfigError(Exception):
    """A human-fixable problem in config.yml (message is ready to print)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(StrEnum):
    """Levels of the practice network, lowest first (配单 escalates upward)."""

    station = "station"  # 村站
    institute = "institute"  # 镇所
    centre = "centre"  # 县中心

    @property
    def rank(self) -> int:
        return list(Tier).index(self)

    @property
    def label(self) -> str:
        return {"station": "村站", "institute": "镇所", "centre": "县中心"}[self.value]


class Role(StrEnum):
    admin = "admin"
    approver = "approver"
    operator = "operator"


# ---------------------------------------------------------------- station tree
class Village(Strict):
    id: Identifier
    name: str = Field(min_length=1)
    aliases: list[str] = []
    # Loudspeaker (大喇叭) settings for this village.
    slots: list[SlotTime] = ["06:30", "12:00", "18:30"]
    voice: str = "zh-CN-XiaoxiaoNeural"
    offline_language: Literal["cmn", "yue"] = "cmn"
    require_phone: bool = False

    @field_validator("slots")
    @classmethod
    def _sorted_unique_slots(cls, slots: list[str]) -> list[str]:
        if len(set(slots)) != len(slots):
            raise ValueError("slot times must be unique")
        return sorted(slots)


class Institute(Strict):
    id: Identifier
    name: str = Field(min_length=1)
    villages: list[Village] = Field(min_length=1)


class Centre(Strict):
    id: Identifier
    name: str = Field(min_length=1)
    institutes: list[Institute] = Field(min_length=1)


# ---------------------------------------------------------------- service menu
class Service(Strict):
    id: Identifier
    name: str = Field(min_length=1)
    theme: str = Field(min_length=1)
    synonyms: list[str] = []
    # Local items belong to one tier and area; canonical county items have tier=None.
    tier: Tier | None = None
    area: str | None = None


class Menu(Strict):
    services: list[Service] = Field(min_length=1)
    local: list[Service] = []

    @property
    def all_services(self) -> list[Service]:
        return [*self.services, *self.local]


# ---------------------------------------------------------------- people
OpenId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{6,64}$")]  # a WeChat user of the official account


class Member(Strict):
    id: Identifier
    name: str = Field(min_length=1)
    telegram_id: int | None = None
    wechat_openid: OpenId | None = None
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$")


class Team(Strict):
    id: Identifier
    name: str = Field(min_length=1)
    tier: Tier
    area: Identifier  # village id, institute id or centre id, by tier
    services: list[Identifier] = Field(min_length=1)
    members: list[Member] = Field(min_length=1)


class Staff(Strict):
    id: Identifier
    name: str = Field(min_length=1)
    roles: list[Role] = Field(min_length=1)
    # Areas this person manages: village, institute or centre ids (a centre covers all).
    areas: list[Identifier] = Field(min_length=1)
    telegram_id: int | None = None
    wechat_openid: OpenId | None = None
    # Web console login; the password hash comes from the CLI or XIANGYIN_STAFF_<ID>_PASSWORD.
    username: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_.-]{2,31}$")


# ---------------------------------------------------------------- subsystems
class OrdersSettings(Strict):
    accept_deadline_minutes: int = Field(default=240, ge=1, le=60 * 24 * 14)
    # At the deadline: escalate to the next tier if a team there offers the service,
    # otherwise flag to admins (status expired).
    escalate_on_deadline: bool = True
    max_people: int = Field(default=500, ge=1)


class DatabaseSettings(Strict):
    url: str = "sqlite:///var/xiangyin.db"


class NluSettings(Strict):
    url: str | None = None  # external Rasa server; None = start the local sidecar
    port: int = Field(default=5005, ge=1024, le=65535)
    confidence_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    workers: int = Field(default=1, ge=1, le=8)  # Rasa processes serving the model (nlu/sidecar.py)


class TelegramSettings(Strict):
    token: str | None = None  # from XIANGYIN_TELEGRAM_TOKEN, never in the repo
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    base_url: str | None = None  # a local Bot API server, e.g. http://127.0.0.1:8081/bot
    # Flood control for sends (Telegram allows about 30 a second); 0 disables it, e.g. for a
    # local Bot API server in benchmarks.
    max_messages_per_second: float = Field(default=30, ge=0, le=1000)


class WeChatSettings(Strict):
    """The official account (公众号): its developer credentials come from the environment."""

    app_id: str | None = None  # XIANGYIN_WECHAT_APP_ID
    app_secret: str | None = None  # XIANGYIN_WECHAT_APP_SECRET
    token: str | None = None  # XIANGYIN_WECHAT_TOKEN: the 令牌 entered with the callback URL
    encoding_aes_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{43}$")  # XIANGYIN_WECHAT_AES_KEY
    # plain: 明文模式; compatible: 兼容模式 (both); safe: 安全模式 (encrypted only).
    message_mode: Literal["plain", "compatible", "safe"] = "compatible"
    api_base_url: str = "https://api.weixin.qq.com/cgi-bin/"  # XIANGYIN_WECHAT_BASE_URL
    listen: str = "127.0.0.1"  # behind the station's HTTPS reverse proxy
    port: int = Field(default=8090, ge=1, le=65535)
    path: str = Field(default="/wechat", pattern=r"^/[A-Za-z0-9/_-]*$")
    # WeChat drops the connection after 5 s and retries: a reply not ready by then goes out
    # through the customer-service API (客服消息) instead.
    reply_budget_seconds: float = Field(default=4.0, gt=0, le=4.8)
    create_menu: bool = True

    @model_validator(mode="after")
    def _safe_needs_key(self) -> WeChatSettings:
        if self.message_mode == "safe" and not self.encoding_aes_key:
            raise ValueError("message_mode safe needs encoding_aes_key (XIANGYIN_WECHAT_AES_KEY)")
        return self


class VoiceSettings(Strict):
    """Voice messages in (speech recognition) and out (语音回复, voiced by the broadcast TTS)."""

    asr_url: str | None = Field(default=None, pattern=r"^wss?://")  # XIANGYIN_ASR_URL, a FunASR runtime server
    asr_timeout_seconds: float = Field(default=8.0, gt=0, le=60)
    max_seconds: int = Field(default=60, ge=1, le=300)  # longer recordings are cut here
    reply_max_chars: int = Field(default=150, ge=10, le=1000)  # a voice reply is short
    ffmpeg: str = "ffmpeg"


class BroadcastSettings(Strict):
    audio_dir: str = "audio_out"
    lead_minutes: int = Field(default=30, ge=1, le=24 * 60)
    no_repeat_days: int = Field(default=7, ge=0, le=365)
    repeat: int = Field(default=2, ge=1, le=5)
    target_lufs: float = Field(default=-16.0, ge=-40, le=-5)
    true_peak_dbtp: float = Field(default=-1.0, ge=-10, le=0)
    bitrate_kbps: int = Field(default=64, ge=32, le=320)
    rate: str = Field(default="-10%", pattern=r"^[+-]\d{1,2}%$")
    volume: str = Field(default="+0%", pattern=r"^[+-]\d{1,2}%$")
    opening: str = "各位村民请注意"
    pause_seconds: float = Field(default=1.5, ge=0, le=10)  # between repeats of the message
    chime: bool = True
    max_text_chars: int = Field(default=1000, ge=10, le=5000)
    # A clip is still worth making/airing this long after its slot (else it is "missed").
    air_grace_minutes: int = Field(default=10, ge=0, le=240)
    urgent_delay_minutes: int = Field(default=2, ge=0, le=60)  # urgent: first airing this soon
    plan_days_ahead: int = Field(default=1, ge=0, le=14)  # programmes planned for today + N days
    cache_dir: str | None = None  # TTS clip cache; default <audio_dir>/.cache
    # edge-tts (online neural voices); when it fails the offline engine (espeak-ng) speaks.
    edge_enabled: bool = True
    edge_url: str | None = None  # a local/relay server speaking edge-tts's websocket protocol
    edge_attempts: int = Field(default=3, ge=1, le=10)
    edge_backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    edge_timeout_seconds: int = Field(default=30, ge=1, le=600)
    edge_cooldown_seconds: float = Field(default=300, ge=0, le=86400)  # skip edge after a failure
    # A village's MP3: its own tagged copy (village, air time and item in the ID3 tags), or a
    # hard link to the day's one file per distinct clip (a province: the disk space of the
    # distinct clips, not of every airing; the playlist still names each village's file).
    village_files: Literal["tagged", "linked"] = "tagged"


class WebSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # From XIANGYIN_WEB_SECRET; if absent one is generated once and kept in the database.
    secret_key: str | None = Field(default=None, min_length=16)
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Login rate limiting: this many failures within the window lock the username (and,
    # at 4x, the client address) until the window has passed.
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    cookie_secure: bool = False  # True behind HTTPS so the session cookie never goes over plain HTTP


class PointsSettings(Strict):
    """积分 rules: awards are derived from order events (one ledger row per award)."""

    per_order: int = Field(default=10, ge=0, le=1000)  # a delivered order (完成), to its volunteer
    per_hour: int = Field(default=5, ge=0, le=1000)  # per service hour of that delivery
    five_star_bonus: int = Field(default=5, ge=0, le=1000)  # the volunteer, when rated 5 stars
    per_rating: int = Field(default=2, ge=0, le=1000)  # the resident who rates (评单)
    # Hours of a delivery: accept → done, capped here, unless the volunteer declares them.
    max_hours_per_order: float = Field(default=4.0, gt=0, le=24)
    max_declared_hours: float = Field(default=12.0, gt=0, le=72)
    declare_within_days: int = Field(default=7, ge=0, le=90)  # declaring hours after 完成
    max_redeem: int = Field(default=10_000, ge=1)  # one redemption (积分兑换) at most


class ReportsSettings(Strict):
    archive_dir: str = "var/bulletins"  # the bulletin archive (PDF, xlsx, CSV per area and month)
    # Areas that get a monthly bulletin on the 1st: centre, institute or village ids.
    # Empty: the centre and every institute.
    monthly_areas: list[Identifier] = []
    honour_size: int = Field(default=5, ge=1, le=50)  # names on the red list
    low_rating: int = Field(default=2, ge=1, le=5)  # ratings at or below this need attention


class ClusterSettings(Strict):
    """Several instances on one PostgreSQL (core/lease.py); SQLite runs one instance."""

    # The scheduler's and the outboxes' leases: renewed every third of this by the holder; an
    # instance that dies (kill -9) is replaced by another this long after its last renewal.
    lease_seconds: float = Field(default=30.0, ge=1, le=600)


class AppConfig(Strict):
    timezone: str = "Asia/Shanghai"
    centre: Centre
    menu: Menu
    teams: list[Team] = []
    staff: list[Staff] = []
    orders: OrdersSettings = OrdersSettings()
    database: DatabaseSettings = DatabaseSettings()
    nlu: NluSettings = NluSettings()
    telegram: TelegramSettings = TelegramSettings()
    wechat: WeChatSettings = WeChatSettings()
    voice: VoiceSettings = VoiceSettings()
    broadcasts: BroadcastSettings = BroadcastSettings()
    web: WebSettings = WebSettings()
    points: PointsSettings = PointsSettings()
    reports: ReportsSettings = ReportsSettings()
    cluster: ClusterSettings = ClusterSettings()

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    # ------------------------------------------------------------ lookups
    @cached_property
    def villages(self) -> dict[str, Village]:
        return {v.id: v for i in self.centre.institutes for v in i.villages}

    @cached_property
    def institutes(self) -> dict[str, Institute]:
        return {i.id: i for i in self.centre.institutes}

    @cached_property
    def services(self) -> dict[str, Service]:
        return {s.id: s for s in self.menu.all_services}

    @cached_property
    def teams_by_id(self) -> dict[str, Team]:
        return {t.id: t for t in self.teams}

    @cached_property
    def staff_by_id(self) -> dict[str, Staff]:
        return {s.id: s for s in self.staff}

    @cached_property
    def members_by_id(self) -> dict[str, Member]:
        """Team members by id (the first listing, if somebody serves in two teams)."""
        found: dict[str, Member] = {}
        for _, member in self.members():
            found.setdefault(member.id, member)
        return found

    def institute_of(self, village_id: str) -> Institute:
        for institute in self.centre.institutes:
            if any(v.id == village_id for v in institute.villages):
                return institute
        raise KeyError(village_id)

    def area_of(self, village_id: str, tier: Tier) -> str:
        """The id of the area at `tier` that contains the village."""
        if tier is Tier.station:
            return village_id
        if tier is Tier.institute:
            return self.institute_of(village_id).id
        return self.centre.id

    def villages_in(self, area_id: str) -> list[str]:
        """Village ids inside a village, institute or centre id."""
        if area_id == self.centre.id:
            return list(self.villages)
        if area_id in self.institutes:
            return [v.id for v in self.institutes[area_id].villages]
        if area_id in self.villages:
            return [area_id]
        return []

    def services_for_village(self, village_id: str) -> list[Service]:
        """The menu a resident of this village sees: county items plus local ones above it."""
        areas = {self.area_of(village_id, t) for t in Tier}
        return [s for s in self.menu.all_services if s.tier is None or s.area in areas]

    def members(self) -> Iterator[tuple[Team, Member]]:
        for team in self.teams:
            for member in team.members:
                yield team, member

    def staff_villages(self, staff: Staff) -> set[str]:
        return {v for area in staff.areas for v in self.villages_in(area)}

    # ------------------------------------------------------------ cross checks
    @model_validator(mode="after")
    def _check_references(self) -> AppConfig:
        problems: list[str] = []
        villages = [v for i in self.centre.institutes for v in i.villages]
        _unique("centre.institutes[].villages[].id", [v.id for v in villages], problems)
        _unique("centre.institutes[].id", [i.id for i in self.centre.institutes], problems)
        _unique("menu services id", [s.id for s in self.menu.all_services], problems)
        _unique("teams[].id", [t.id for t in self.teams], problems)
        _unique("staff[].id", [s.id for s in self.staff], problems)
        aliases: dict[str, str] = {}
        for v in villages:
            for name in [v.name, *v.aliases]:
                if aliases.setdefault(name, v.id) != v.id:
                    problems.append(f"village name/alias '{name}' is used by both {aliases[name]} and {v.id}")
        village_ids = {v.id for v in villages}
        institute_ids = {i.id for i in self.centre.institutes}
        area_ids_by_tier = {
            Tier.station: village_ids,
            Tier.institute: institute_ids,
            Tier.centre: {self.centre.id},
        }
        service_ids = {s.id for s in self.menu.all_services}
        for n, item in enumerate(self.menu.local):
            if item.tier is None or item.area not in area_ids_by_tier[item.tier]:
                problems.append(
                    f"menu.local[{n}] ({item.id}): needs a tier and an area of that tier, got "
                    f"tier={item.tier} area={item.area}"
                )
        for n, team in enumerate(self.teams):
            if team.area not in area_ids_by_tier[team.tier]:
                problems.append(f"teams[{n}].area: '{team.area}' is not a {team.tier.value} id")
            for s in team.services:
                if s not in service_ids:
                    problems.append(f"teams[{n}].services: unknown service '{s}'")
        all_areas = village_ids | institute_ids | {self.centre.id}
        for n, person in enumerate(self.staff):
            for a in person.areas:
                if a not in all_areas:
                    problems.append(f"staff[{n}].areas: unknown area '{a}'")
        _unique("staff[].username", [s.username for s in self.staff if s.username], problems)
        for a in self.reports.monthly_areas:
            if a not in all_areas:
                problems.append(f"reports.monthly_areas: unknown area '{a}'")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _unique(what: str, values: list[str], problems: list[str]) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            problems.append(f"{what}: duplicate '{v}'")
        seen.add(v)


# ---------------------------------------------------------------- loading
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "XIANGYIN_DATABASE_URL": ("database", "url"),
    "XIANGYIN_TELEGRAM_TOKEN": ("telegram", "token"),
    "XIANGYIN_TELEGRAM_BASE_URL": ("telegram", "base_url"),
    "XIANGYIN_WECHAT_APP_ID": ("wechat", "app_id"),
    "XIANGYIN_WECHAT_APP_SECRET": ("wechat", "app_secret"),
    "XIANGYIN_WECHAT_TOKEN": ("wechat", "token"),
    "XIANGYIN_WECHAT_AES_KEY": ("wechat", "encoding_aes_key"),
    "XIANGYIN_WECHAT_BASE_URL": ("wechat", "api_base_url"),
    "XIANGYIN_WECHAT_PORT": ("wechat", "port"),
    "XIANGYIN_ASR_URL": ("voice", "asr_url"),
    "RASA_URL": ("nlu", "url"),
    "XIANGYIN_WEB_SECRET": ("web", "secret_key"),
    "XIANGYIN_AUDIO_DIR": ("broadcasts", "audio_dir"),
    "XIANGYIN_BULLETIN_DIR": ("reports", "archive_dir"),
}


def config_path() -> Path:
    return Path(os.environ.get("XIANGYIN_CONFIG", DEFAULT_CONFIG_PATH))


def load_config(path: Path | str | None = None, *, environ: dict[str, str] | None = None) -> AppConfig:
    """Read, override from the environment and validate; raise ConfigError on any problem."""
    path = Path(path) if path is not None else config_path()
    env = os.environ if environ is None else environ
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            section_data = raw.setdefault(section, {}) or {}
            if not isinstance(section_data, dict):
                raise ConfigError(f"{path}: {section}: expected a mapping")
            raw[section] = {**section_data, key: env[var]}
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None


def _describe(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = re.sub(r"^Value error, ", "", err["msg"])
        lines.append(f"{path}: {loc}: {msg}")
    return "\n".join(lines)
