"""Matter kinds: how the progress pages read bookings, applications and later record types.

Each feature that owns a record type registers one kind (normally in its package __init__):

    register_matter_kind(kind="application", label="办件", list_for_user=..., get=...,
                         find_by_number=...)

`kind` is also the AuditLog `entity` of its records and the `entity` of their short links, so the
timeline and `/t/<token>` find them. The functions return MatterSummary rows, must not commit,
and must work outside a request too (notify() and the lookup job call `get`/`find_by_number` from
jobs), so build any URL in them without url_for, e.g. f"/bookings/{row.id}".
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class MatterSummary:
    """What the progress pages need to know about one record, whatever its type."""

    kind: str
    id: int
    number: str  # the reference the citizen holds (预约号, 办件编号)
    title: str  # the service item, or the bundle
    status_label: str  # a word for people: 已受理, 需补正…
    status_tone: str  # badge tone: info, success, warning, error, neutral
    citizen_id: int
    phone: str  # the phone on file: lookup codes and notifications go there
    created_at: datetime  # naive UTC
    next_step: str = ""  # what the citizen should do now, one or two sentences
    contact_phone: str = ""  # whom to call about it (the hall's phone)
    hall_id: int | None = None
    hall_name: str = ""
    completed: bool = False  # results are ready: the citizen may choose pickup or courier
    detail_url: str | None = None  # the owning feature's own page for it, if any
    due: date | None = None  # a deadline the citizen must meet (容缺: bring the materials by)
    action_label: str = ""  # the one thing to do now, as a button on the timeline (重新预约)
    action_url: str | None = None
    appointment: datetime | None = None  # a booking's time (naive UTC): lists show and sort by it
    upcoming: bool = False  # an appointment still ahead: listed first, soonest first


@dataclass(frozen=True)
class MatterKind:
    kind: str
    label: str
    list_for_user: Callable[[int], list[MatterSummary]]
    get: Callable[[int], MatterSummary | None]
    find_by_number: Callable[[str], MatterSummary | None]


_KINDS: dict[str, MatterKind] = {}


def register_matter_kind(*, kind: str, label: str,
                         list_for_user: Callable[[int], list[MatterSummary]],
                         get: Callable[[int], MatterSummary | None],
                         find_by_number: Callable[[str], MatterSummary | None]) -> MatterKind:
    """Register (or replace) how one record type is read; safe to call again on re-import."""
    spec = MatterKind(kind, label, list_for_user, get, find_by_number)
    _KINDS[kind] = spec
    return spec


def unregister_matter_kind(kind: str) -> None:
    """Forget a kind (tests and benches register their own)."""
    _KINDS.pop(kind, None)


def matter_kind(kind: str) -> MatterKind | None:
    return _KINDS.get(kind)


def matter_kinds() -> list[MatterKind]:
    return list(_KINDS.values())
