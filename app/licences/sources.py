"""Where licences are found: one interface, one method, chosen by settings.

    LICENCE_SOURCES=own          this app's own records (the default)
    LICENCE_SOURCES=own,http     and a provincial platform at LICENCE_HTTP_URL

A source answers `find(holder, licence_type)` with the licences that holder has of that type.
Every lookup together may take LICENCE_LOOKUP_SECONDS (2 s); a source that is slower or fails
raises LookupFailed, and the caller falls back to a photo (never blocking an application).
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Protocol

import requests
from flask import current_app
from sqlalchemy import or_, select

from app.core.refusals import Refusal
from app.core.states import move
from app.core.timeutil import local_today, parse_day
from app.extensions import db
from app.licences.models import Company, CompanyMember, Licence
from app.licences.states import LABELS, Status

log = logging.getLogger(__name__)
PLATFORM_NOTE = "省级证照平台同步"
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="licence-lookup")


class LookupFailed(Exception):
    """A source did not answer in time or answered nonsense."""


@dataclass
class Holder:
    """Whose licences to find: a person (by account and ID number) and their companies."""

    user_id: int | None
    name: str = ""
    id_number: str | None = None
    companies: list[Company] = field(default_factory=list)
    # When the page's lookup must be over (time.monotonic()): one page asks per material, and
    # the 2 s is for all of them, not 2 s each.
    deadline: float | None = None


def deadline() -> float:
    """The end of a lookup starting now."""
    return time.monotonic() + current_app.config["LICENCE_LOOKUP_SECONDS"]


class LicenceSource(Protocol):
    name: str

    def find(self, holder: Holder, licence_type: str) -> list[Licence]:
        """The holder's licences of this type (any status; the caller checks validity)."""


class OwnRecords:
    """Licences this app issued or imported."""

    name = "own"

    def find(self, holder: Holder, licence_type: str) -> list[Licence]:
        owners = []
        if holder.user_id is not None:
            owners.append(Licence.holder_user_id == holder.user_id)
        if holder.companies:
            owners.append(Licence.company_id.in_([c.id for c in holder.companies]))
        if not owners:
            return []
        return list(db.session.scalars(select(Licence).where(
            Licence.type_code == licence_type, or_(*owners)).order_by(Licence.issued_on.desc())))


class HttpSource:
    """A licence platform answering GET <url>?type=<code>&holder=<ID number or credit code>
    with {"licences": [{"number", "holder_name", "department", "issued_on", "expires_on",
    "status"}]}. What it finds is kept as a Licence row (source http) so an application can
    carry a reference to it; its status is refreshed at each lookup."""

    name = "http"

    def __init__(self, url: str, token: str | None = None):
        self.url, self.token = url, token

    def _fetch(self, holder_key: str, licence_type: str, seconds: float) -> list[dict]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = requests.get(self.url, params={"type": licence_type, "holder": holder_key},
                                headers=headers, timeout=seconds)
        response.raise_for_status()
        return response.json().get("licences", [])

    def find(self, holder: Holder, licence_type: str) -> list[Licence]:
        end = holder.deadline or deadline()
        seconds = end - time.monotonic()
        if seconds <= 0:
            raise LookupFailed("timeout (the lookup's time was spent on another material)")
        keys = ([(holder.id_number, None)] if holder.id_number else []) + [
            (c.credit_code, c) for c in holder.companies]
        futures = [(company, _POOL.submit(self._fetch, key, licence_type, seconds))
                   for key, company in keys]
        found = []
        for company, future in futures:
            try:
                # One clock for the whole lookup: never longer than the setting, however slow
                # the platform's socket is to give up.
                rows = future.result(timeout=max(0.0, end - time.monotonic()))
            except FutureTimeout as exc:
                raise LookupFailed("timeout") from exc
            except (requests.RequestException, ValueError, AttributeError) as exc:
                raise LookupFailed(str(exc)) from exc
            found += [self._keep(r, licence_type, holder, company) for r in rows
                      if isinstance(r, dict) and r.get("number")]
        return found

    def _keep(self, data: dict, licence_type: str, holder: Holder, company) -> Licence:
        row = db.session.scalar(select(Licence).where(
            Licence.type_code == licence_type, Licence.number == str(data["number"])[:60]))
        if row is None:
            row = Licence(type_code=licence_type, number=str(data["number"])[:60], source="http")
            db.session.add(row)
        row.holder_name = str(data.get("holder_name") or (company.name if company
                                                           else holder.name))[:120]
        row.holder_user_id = None if company else holder.user_id
        row.company_id = company.id if company else None
        row.department = str(data.get("department") or "省级证照平台")[:80]
        row.issued_on = parse_day(data.get("issued_on")) or local_today()
        row.expires_on = parse_day(data.get("expires_on"))
        status = data.get("status", "valid")
        status = status if status in ("valid", "revoked", "replaced") else "revoked"
        if row.id is None:
            row.status = status  # first seen: what the platform holds, not a change
            db.session.flush()
        elif status != row.status:
            _platform_moved(row, Status(status))
        return row


def _platform_moved(row: Licence, to: Status) -> None:
    """The platform changed a licence we keep: the LICENCES machine moves it, audited.

    No SMS: the issuing department revoked or replaced it on its own platform and tells its
    holder itself; this lookup runs on a citizen's page, which already shows why the licence no
    longer counts, and a text to the holder and every member of the company from inside a 2 s
    lookup would repeat the issuer's news. A move the table forbids (a revoked or replaced
    licence said to be valid again) is not taken: such a licence is only reissued under a new
    number, so the row stays as it was and the anomaly is logged."""
    try:
        move(row, to, None, PLATFORM_NOTE, f"{LABELS[to][0]}({PLATFORM_NOTE})", sms=False,
             status_reason=PLATFORM_NOTE)
    except Refusal:
        log.warning("licence %s: the platform says %s, the table refuses it from %s",
                    row.id, to, row.status)


def configured() -> list[LicenceSource]:
    """The sources named in LICENCE_SOURCES, in order."""
    found: list[LicenceSource] = []
    for name in current_app.config["LICENCE_SOURCES"].split(","):
        name = name.strip()
        if name == "own":
            found.append(OwnRecords())
        elif name == "http" and current_app.config.get("LICENCE_HTTP_URL"):
            found.append(HttpSource(current_app.config["LICENCE_HTTP_URL"],
                                    current_app.config.get("LICENCE_HTTP_TOKEN")))
    return found


def companies_of(user_id: int) -> list[Company]:
    return list(db.session.scalars(select(Company).join(CompanyMember).where(
        CompanyMember.user_id == user_id)))
