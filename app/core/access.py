"""Who may do what: every view declares who it serves, and this module enforces it.

Three declarations, one per view, right above it (tests/core/test_access_declared.py walks the
URL map and fails for a view without one):

    @public_view                          anyone, signed in or not
    @own_view(VIEW)                       the signed-in person's own records, or one record
                                          through a link whose purpose allows VIEW
    @staff_view(Scope.HALL, roles=ADMINS) staff holding one of `roles`, within the scope

Staff scopes (README, "Roles and scopes"):

- HALL: the records of one hall. The hall comes from the staff account; only a city-wide admin
  may pick one (`?hall=` or a form field `hall`), or leave it open for every hall. Every query
  in the request is limited with `scope().limit(column)` and every record is checked with
  `scope().read(...)` or `scope().change(...)`.
- DEPARTMENT: the questions of the departments the staff member answers for.
- CITY: records of the whole city (the catalog, the SMS log): every declared role reads them;
  a record that belongs to one hall alone may be changed by that hall's admin, anything shared
  or city-wide (a calendar day of every hall, an item of several halls) by a city-wide admin.
- OWN: the staff member's own account and work (their password, their ratings).

A refusal is a 403 (outside the person's role or hall) or a 404 (no such record), logged with the
rule that refused it.

Halls are the catalog's: create_app hands this module the catalog's readers (`init_app`), as it
hands Flask-Login the user loader, so that core imports no feature.
"""

import enum
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps

from flask import (
    abort,
    current_app,
    g,
    has_app_context,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import false, true

from app.core.ids import parse_id
from app.core.redirects import safe_target

log = logging.getLogger(__name__)


class StaffRole(enum.StrEnum):
    CLERK = "clerk"  # 窗口工作人员: their hall
    HALL_ADMIN = "hall_admin"  # 大厅管理员: their hall, and its settings
    CITY_ADMIN = "city_admin"  # 市级管理员 (an admin of no hall): every hall, city-wide records


ROLE_LABELS = {StaffRole.CLERK: "窗口工作人员", StaffRole.HALL_ADMIN: "大厅管理员",
               StaffRole.CITY_ADMIN: "市级管理员"}
STAFF = frozenset(StaffRole)
ADMINS = frozenset({StaffRole.HALL_ADMIN, StaffRole.CITY_ADMIN})
DESK = frozenset({StaffRole.CLERK, StaffRole.HALL_ADMIN})  # people at a hall's counters


class Scope(enum.StrEnum):
    HALL = "hall"
    DEPARTMENT = "department"
    CITY = "city"
    OWN = "own"


# What a link (or a lookup by number + code) may let a view do; app/core/links.py PURPOSES says
# which purpose allows which. The record's signed-in owner may do everything.
VIEW = "view"  # the record's status, timeline and receipt; never an ID photo, never a change
PHOTOS = "photos"  # the photos of the record's materials
SUPPLEMENT = "supplement"  # replace the flagged materials and send them back (补正)
RATE = "rate"  # rate one served visit or matter, once, within its rating window (好差评)
LINK_ACTIONS = (VIEW, PHOTOS, SUPPLEMENT, RATE)

MESSAGES = {
    "role": "这项操作不在您的角色范围内。如需调整,请联系市级管理员。",
    "hall": "这条记录属于其他大厅,不在您的权限范围内。",
    "city": "全市通用或多个大厅共用的记录,只有市级管理员可以修改。",
    "no_hall": "您的账号没有所属大厅,不能使用这个页面。请联系市级管理员。",
    "department": "这个问题不属于您答复的部门。如需调整所属部门,请联系大厅管理员。",
}


@dataclass(frozen=True)
class Declaration:
    """Who a view serves: what `tests/core/test_access_declared.py` and the README list."""

    audience: str  # public, own, staff
    scope: Scope | None = None
    roles: frozenset = frozenset()
    link_actions: frozenset = frozenset()  # for own views: what a link may let it do
    staff_scope: Scope | None = None  # for own views that staff may open too (a photo)


def declaration(view: Callable) -> Declaration | None:
    return getattr(view, "access", None)


def _declare(view: Callable, decl: Declaration) -> Callable:
    view.access = decl
    return view


def refuse(status: int, rule: str, message: str | None = None):
    """Refuse the request (403 or 404), logging the rule that refused it."""
    where = f"{request.method} {request.path}" if has_request_context() else "outside a request"
    log.info("access refused (rule=%s): %s %s", rule, status, where, extra={"access_rule": rule})
    text = message or MESSAGES.get(rule)
    if status == 403 and text:
        abort(403, description=text)
    abort(status)


def note_refusal(status: int, rule: str, why: str = "") -> None:
    """Log a refusal a feature made by its own rule (the named helper, citizens only...)."""
    if status in (403, 404):
        where = f"{request.method} {request.path}" if has_request_context() else "-"
        log.info("access refused (rule=%s): %s %s %s", rule, status, where, why,
                 extra={"access_rule": rule})


# ---- who the signed-in person is ----------------------------------------------------------------

def staff_role(user) -> StaffRole | None:
    """The staff role of this person, or None for a citizen or nobody."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.role == "clerk":
        return StaffRole.CLERK
    if user.role == "admin":
        return StaffRole.HALL_ADMIN if user.hall_id is not None else StaffRole.CITY_ADMIN
    return None


@dataclass(frozen=True)
class HallReaders:
    by_id: Callable[[int], object | None]
    first: Callable[[], object | None]  # the first hall, for a city-wide admin who picked none


def init_app(app, hall_by_id: Callable[[int], object | None],
             first_hall: Callable[[], object | None]) -> None:
    """How a scope reads halls (app/catalog/halls.py)."""
    app.extensions["palm.access_halls"] = HallReaders(hall_by_id, first_hall)


def _hall_readers() -> HallReaders:
    return current_app.extensions["palm.access_halls"]


# ---- declarations -------------------------------------------------------------------------------

def public_view(view: Callable) -> Callable:
    """Anyone may open it, signed in or not."""
    return _declare(view, Declaration("public"))


def own_view(*link_actions: str, staff: Scope | None = None) -> Callable:
    """The signed-in person's own things, or one record through a link or lookup whose purpose
    allows one of `link_actions`. With `staff`, staff may open it too, within that scope (the
    view then checks the record with `scope()`)."""
    unknown = set(link_actions) - set(LINK_ACTIONS)
    if unknown:
        raise ValueError(f"unknown link actions {unknown}")

    def decorate(view: Callable) -> Callable:
        decl = Declaration("own", link_actions=frozenset(link_actions), staff_scope=staff)
        if staff is None:
            return _declare(view, decl)

        @wraps(view)
        def wrapped(*args, **kwargs):
            role = staff_role(current_user)
            if role is not None:
                g.staff_scope = StaffScope.resolve(current_user, role, staff)
            return view(*args, **kwargs)

        return _declare(wrapped, decl)

    return decorate


def staff_view(kind: Scope, roles: Iterable[StaffRole] = STAFF) -> Callable:
    """Staff holding one of `roles`, within a scope of `kind`; anyone else is refused before the
    view."""
    roles = frozenset(roles)
    if not roles <= STAFF:
        raise ValueError(f"unknown staff roles {roles - STAFF}")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.staff_login_page", next=_here()))
            role = staff_role(current_user)
            if role is None:
                refuse(403, "staff_only")  # a citizen: the plain 403, which says to sign in
            if role not in roles:
                refuse(403, "role")
            g.staff_scope = StaffScope.resolve(current_user, role, kind)
            return view(*args, **kwargs)

        return _declare(wrapped, Declaration("staff", scope=kind, roles=roles))

    return decorate


def _here() -> str:
    return safe_target(request.full_path.rstrip("?"), "/staff")


# ---- the scope of one staff request ------------------------------------------------------------

def _halls(halls) -> frozenset[int]:
    """A record's halls: one id, several, or none (None: a city-wide record)."""
    if halls is None:
        return frozenset()
    if isinstance(halls, int):
        return frozenset({halls})
    return frozenset(h for h in halls if h is not None)


@dataclass
class StaffScope:
    """What one staff request may reach; `scope()` gives it to views and services."""

    user: object
    role: StaffRole
    kind: Scope
    hall_id: int | None  # the hall in scope; None: every hall for a city-wide admin, else none
    picked: bool = False  # a city-wide admin chose this hall for the request
    _departments: list[str] | None = field(default=None, repr=False)

    @classmethod
    def resolve(cls, user, role: StaffRole, kind: Scope) -> "StaffScope":
        if role is StaffRole.CITY_ADMIN:
            raw = request.values.get("hall") if has_request_context() else None
            if raw:  # a city-wide admin may pick one hall for this request
                return cls(user, role, kind, _existing_hall(raw), picked=True)
            return cls(user, role, kind, None)
        if user.hall_id is None and kind is Scope.HALL:
            refuse(403, "no_hall")
        return cls(user, role, kind, user.hall_id)

    @property
    def city_wide(self) -> bool:
        return self.role is StaffRole.CITY_ADMIN

    @property
    def every_hall(self) -> bool:
        return self.city_wide and self.hall_id is None

    @property
    def admin(self) -> bool:
        return self.role in ADMINS

    def hall(self):
        """The one hall a page shows: the staff member's, the picked one, or for a city-wide
        admin who picked none the first hall (the page offers the others)."""
        if self.hall_id is not None:
            return _hall_readers().by_id(self.hall_id)
        if not self.every_hall:
            refuse(403, "no_hall")
        found = _hall_readers().first()
        if found is None:
            refuse(404, "no_hall")
        return found

    def limit(self, column):
        """A WHERE clause keeping a query to the hall(s) in scope."""
        if self.every_hall:
            return true()
        return column == self.hall_id if self.hall_id is not None else false()

    def reaches(self, halls) -> bool:
        """Whether a record of these halls (None: city-wide) is in this request's hall."""
        halls = _halls(halls)
        if self.every_hall or not halls:
            return True
        return self.hall_id in halls

    def read(self, halls, rule: str = "hall") -> None:
        """Refuse (403) a record outside the hall in scope; city-wide records are for all."""
        if self.kind is Scope.CITY and not self.picked:
            return
        if not self.reaches(halls):
            refuse(403, rule)

    def may_change(self, halls) -> bool:
        """Whether this person may change a record of these halls: one hall alone is that hall's
        (its admin's, or its staff's for hall work); shared or city-wide ones are the city's."""
        halls = _halls(halls)
        if not self.reaches(halls):
            return False
        if self.city_wide:
            return True
        return halls == {self.user.hall_id}

    def change(self, halls) -> None:
        """Refuse (403) a change this person may not make to a record of these halls."""
        halls = _halls(halls)
        self.read(halls)
        if not self.may_change(halls):
            refuse(403, "hall" if len(halls) == 1 else "city")

    @property
    def departments(self) -> list[str]:
        if self._departments is None:
            self._departments = departments_of(self.user)
        return self._departments

    def department(self, name: str) -> None:
        """Refuse (403) a record of a department this person does not answer for."""
        if name not in self.departments:
            refuse(403, "department", f"这个问题由{name}答复,您不属于这个部门。"
                                      "如需调整所属部门,请联系大厅管理员。")


def _existing_hall(raw) -> int:
    hall_id = parse_id(raw)
    if hall_id is None or _hall_readers().by_id(hall_id) is None:
        refuse(404, "no_hall")
    return hall_id


def scope(actor=None) -> StaffScope:
    """The scope of this request (only views declared with staff_view, or own_view(staff=),
    have one). A service acting for `actor` outside such a request (a job, the CLI, a test) gets
    the actor's own: their hall, or every hall for a city-wide admin; a citizen is refused."""
    found = g.get("staff_scope") if has_app_context() else None
    if found is not None and (actor is None or found.user.id == actor.id):
        return found
    if actor is None:
        raise RuntimeError("this view declared no staff scope (app/core/access.py)")
    role = staff_role(actor)
    if role is None:
        refuse(403, "staff_only")
    if role is not StaffRole.CITY_ADMIN and actor.hall_id is None:
        refuse(403, "no_hall")
    return StaffScope(actor, role, Scope.HALL, actor.hall_id)


def staff_scope_or_none() -> StaffScope | None:
    return g.get("staff_scope")


# ---- the check the tests run --------------------------------------------------------------------

FLASK_OWN = {"static"}  # Flask's static files


def undeclared(app) -> list[str]:
    """Every route whose view declares nothing, as "METHODS /rule endpoint"."""
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FLASK_OWN:
            continue
        if declaration(app.view_functions[rule.endpoint]) is None:
            methods = ",".join(sorted(rule.methods - {"HEAD", "OPTIONS"}))
            missing.append(f"{methods} {rule.rule} {rule.endpoint}")
    return missing


def departments_of(user) -> list[str]:
    """The departments this member of staff answers questions for: the account knows them."""
    return user.department_names()
