"""My matters, one matter's timeline, who may see it, the lookup by number + code, delivery."""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import after_this_request, current_app
from flask_login import current_user
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    delete,
    literal_column,
    null,
    select,
    union_all,
)

from app import jobs
from app.auth.services import (
    AuthError,
    TooManyCodes,
    check_code,
    issue_code,
    normalize_phone,
)
from app.core.access import VIEW, refuse, scope
from app.core.links import allows, grant_record
from app.core.models import AuditLog, audit
from app.core.refusals import Refusal
from app.core.timeutil import utcnow
from app.extensions import db
from app.progress.models import (
    COURIERS,
    DELIVERY_LABELS,
    DeliveryMethod,
    PushSubscription,
    ResultDelivery,
)
from app.progress.notify import notify
from app.progress.registry import MatterSummary, matter_kind, matter_kinds

NUMBER_RE = re.compile(r"^[A-Z0-9-]{6,24}$")
DEFAULT_CONTACT = "12345"  # 政务服务便民热线, when a record names no hall phone


class ProgressError(Refusal):
    """A refused step, with a message for the page and its field (a Refusal)."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message, status, field)


@dataclass(frozen=True)
class Step:
    """One line of a timeline: when, and what happened, in words for people."""

    at: datetime
    text: str


# -- reading ------------------------------------------------------------------------------------

def matters_for(user_id: int) -> list[MatterSummary]:
    """Every matter of every kind the person has: appointments still ahead first (soonest
    first), then the rest newest first."""
    rows = [m for spec in matter_kinds() for m in spec.list_for_user(user_id)]
    ahead = sorted((m for m in rows if m.upcoming), key=lambda m: m.appointment)
    rest = sorted((m for m in rows if not m.upcoming), key=lambda m: m.created_at, reverse=True)
    return ahead + rest


def get_matter(kind: str, entity_id: int) -> MatterSummary | None:
    spec = matter_kind(kind)
    return spec.get(entity_id) if spec else None


def viewable(kind: str, entity_id: int) -> MatterSummary | None:
    """The matter when its owner is signed in, or a link or lookup opened it to view."""
    summary = get_matter(kind, entity_id)
    if summary is None:
        return None
    if current_user.is_authenticated and summary.citizen_id == current_user.id:
        return summary
    return summary if allows(kind, entity_id, VIEW) else None


def delivery_for(kind: str, entity_id: int) -> ResultDelivery | None:
    """The results delivery chosen for a matter (clerks' pages may show it too)."""
    return db.session.scalar(select(ResultDelivery).where(
        ResultDelivery.kind == kind, ResultDelivery.entity_id == entity_id))


def timeline(summary: MatterSummary, owner: bool = True
             ) -> tuple[list[Step], ResultDelivery | None]:
    """The citizen-facing steps, newest first, and the delivery choice: one query in all; for
    someone holding a link (not the owner) the delivery address is left out.

    Audit rows with a public note and (for a completed matter) the ResultDelivery row come back
    in one UNION ALL, so the page costs the same however many steps there are.
    """
    rows = db.session.execute(_timeline_query(summary.completed),
                              {"kind": summary.kind, "entity_id": summary.id}).all()
    steps, delivery = [], None
    for row in rows:
        if row.method is None:
            steps.append(Step(row.at, row.note))
            continue
        delivery = ResultDelivery(kind=summary.kind, entity_id=summary.id, method=row.method,
                                  recipient=row.recipient, phone=row.phone, address=row.address,
                                  courier=row.courier, tracking_no=row.tracking_no,
                                  sent_at=row.sent_at, updated_at=row.at)
        steps.append(Step(row.at, delivery_sentence(delivery, owner)))
    return steps, delivery


@cache
def _timeline_query(completed: bool):
    """The statement of timeline(), built once (with bound parameters) rather than per page."""
    kind, entity_id = bindparam("kind", type_=String), bindparam("entity_id", type_=Integer)
    text = cast(null(), String)
    query = select(AuditLog.created_at.label("at"), AuditLog.id.label("seq"),
                   AuditLog.public_note.label("note"),
                   text.label("method"), text.label("recipient"), text.label("phone"),
                   cast(null(), Text).label("address"), text.label("courier"),
                   text.label("tracking_no"), cast(null(), DateTime).label("sent_at")).where(
        AuditLog.entity == kind, AuditLog.entity_id == entity_id,
        AuditLog.public_note.is_not(None), AuditLog.public_note != "")
    if completed:
        query = union_all(query, select(
            ResultDelivery.updated_at, ResultDelivery.id, text, ResultDelivery.method,
            ResultDelivery.recipient, ResultDelivery.phone, ResultDelivery.address,
            ResultDelivery.courier, ResultDelivery.tracking_no, ResultDelivery.sent_at).where(
            ResultDelivery.kind == kind, ResultDelivery.entity_id == entity_id))
    return query.order_by(literal_column("at").desc(), literal_column("seq").desc())


def delivery_sentence(delivery: ResultDelivery, owner: bool = True) -> str:
    if delivery.method == DeliveryMethod.COURIER:
        return f"您选择了快递送达,结果将寄往:{delivery.address}" if owner else "您选择了快递送达"
    return "您选择了到窗口领取结果,请带上身份证到办理窗口领取"


# -- lookup by number + SMS code (一号查询) -------------------------------------------------------

def normalize_number(raw: str | None) -> str | None:
    """An application or booking number as typed, cleaned; None when it cannot be one."""
    number = re.sub(r"[\s]", "", raw or "").upper()
    return number if NUMBER_RE.match(number) else None


def find_by_number(number: str) -> MatterSummary | None:
    for spec in matter_kinds():
        found = spec.find_by_number(number)
        if found is not None:
            return found
    return None


def start_lookup(number: str) -> dict:
    """Queue the sending of a lookup code; the job finds the phone on file, if there is one.

    The request does the same work whether or not the number exists (one outbox row), so neither
    its answer nor its timing tells. Without Redis a job runs inline in the request, and finding
    the phone and sending the code would make a real number's answer slower: there the job runs
    once the answer has gone (and the outbox sweep has it should the process stop first).
    Returns the state the browser keeps between the two pages: what was typed and a clock.
    """
    if current_app.config.get("REDIS_URL"):
        jobs.enqueue("progress.lookup_code", number)
        db.session.commit()
    else:
        row = jobs.enqueue("progress.lookup_code", number, run_at=utcnow() + AFTER_ANSWER)
        db.session.commit()
        _after_answer(row.id)
    return {"number": number, "at": utcnow().timestamp(), "tries": 0}


AFTER_ANSWER = timedelta(seconds=2)  # the sweep's fallback, should the run after the answer fail


def _after_answer(job_id: int) -> None:
    """Run an outbox job inline once this request's answer has been sent."""
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            jobs.execute(job_id)

    @after_this_request
    def _later(response):
        response.call_on_close(run)
        return response


def send_lookup_code(number: str) -> str:
    """The job's work: a code to the phone on file for this number; for an unknown one a decoy
    code that nobody receives, so the code is later checked the same way (same rows, same time).

    A phone that has had its codes (sign-in's per-phone limit, whatever they were for) gets no
    new one and keeps the code it has: the page said "sent" either way, so the answer tells
    nothing about the number, and several numbers of one phone cannot flood it."""
    summary = find_by_number(number)
    try:
        issue_code(summary.phone if summary else decoy_phone(number), "lookup",
                   send=summary is not None)
    except TooManyCodes:  # raised before any change
        return "phone limit reached"
    return "sent" if summary is not None else "unknown number"


def decoy_phone(number: str) -> str:
    """Where an unknown number's decoy code is kept: never a phone (it starts with "x")."""
    key = current_app.config["SECRET_KEY"].encode()
    return "x" + hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:10]


def finish_lookup(state: dict, code: str) -> MatterSummary:
    """Check the code for the number in `state` (updated in place); raise ProgressError."""
    ttl = current_app.config["SMS_CODE_TTL_SECONDS"]
    if utcnow().timestamp() - state.get("at", 0) > ttl:
        raise ProgressError("验证码已失效,请重新获取", "code")
    summary = find_by_number(state["number"])
    try:  # an unknown number's decoy code is checked just like a real one (same messages)
        check_code(summary.phone if summary else decoy_phone(state["number"]), code, "lookup")
    except AuthError as err:
        state["tries"] = state.get("tries", 0) + 1
        raise ProgressError(str(err), "code") from err
    if summary is None:  # the decoy guessed (one chance in a million): still nothing to open
        raise ProgressError("验证码已失效,请重新获取", "code")
    until = utcnow() + timedelta(minutes=current_app.config["LOOKUP_GRANT_MINUTES"])
    grant_record(summary.kind, summary.id, "progress", until)
    return summary


# -- results delivery (结果送达) -------------------------------------------------------------------

def check_delivery_method(raw: str | None) -> str:
    if raw not in DELIVERY_LABELS:
        raise ProgressError("请选择领取方式", "method")
    return raw


def check_address(name: str, phone: str, address: str) -> dict:
    """The courier details, cleaned; ProgressError names the first wrong field."""
    name, address = (name or "").strip(), (address or "").strip()
    if not 2 <= len(name) <= 20:
        raise ProgressError("请输入收件人姓名(2 到 20 个字)", "name")
    clean_phone = normalize_phone(phone)
    if clean_phone is None:
        raise ProgressError("请输入正确的 11 位手机号码", "phone")
    if not 8 <= len(address) <= 120:
        raise ProgressError("请输入详细地址,包括区县、街道和门牌号(8 到 120 个字)", "address")
    return {"name": name, "phone": clean_phone, "address": address}


def choose_delivery(summary: MatterSummary, draft: dict, actor_id: int | None) -> ResultDelivery:
    """Record (or change) how the results reach the citizen; only once the matter is done."""
    if not summary.completed:
        raise ProgressError("办结后才能选择领取方式", status=409)
    method = check_delivery_method(draft.get("method"))
    details = ({"name": None, "phone": None, "address": None} if method == DeliveryMethod.PICKUP
               else check_address(draft.get("name"), draft.get("phone"), draft.get("address")))
    row = db.session.scalar(select(ResultDelivery).where(
        ResultDelivery.kind == summary.kind, ResultDelivery.entity_id == summary.id
    ).with_for_update())
    if row is not None and row.sent_at is not None:
        raise ProgressError("结果已经寄出,不能再更改领取方式", status=409)
    if row is None:
        row = ResultDelivery(kind=summary.kind, entity_id=summary.id)
        db.session.add(row)
    previous = row.method
    row.hall_id = summary.hall_id
    row.method, row.recipient = method, details["name"]
    row.phone, row.address = details["phone"], details["address"]
    row.chosen_by, row.updated_at = actor_id, utcnow()
    db.session.flush()
    audit("result_delivery", row.id, method, actor_id=actor_id, from_status=previous,
          note=f"{summary.kind} #{summary.id}")
    db.session.commit()
    return row


# -- 寄出: the hall posts the results --------------------------------------------------------------

TRACKING_RE = re.compile(r"^[A-Z0-9]{8,30}$")


def deliveries_to_send(limit: int = 200) -> tuple[list[ResultDelivery], list[ResultDelivery]]:
    """The courier deliveries of the hall(s) in the staff scope: waiting (oldest first), and
    the latest sent ones."""
    base = select(ResultDelivery).where(ResultDelivery.method == DeliveryMethod.COURIER,
                                        scope().limit(ResultDelivery.hall_id))
    waiting = db.session.scalars(base.where(ResultDelivery.sent_at.is_(None)).order_by(
        ResultDelivery.updated_at, ResultDelivery.id).limit(limit)).all()
    sent = db.session.scalars(base.where(ResultDelivery.sent_at.is_not(None)).order_by(
        ResultDelivery.sent_at.desc()).limit(20)).all()
    return waiting, sent


def delivery_for_staff(delivery_id: int) -> ResultDelivery:
    """One courier delivery of the hall in scope; another hall's is refused (403)."""
    row = db.session.get(ResultDelivery, delivery_id)
    if row is None or row.method != DeliveryMethod.COURIER:
        refuse(404, "no_record")
    scope().read(row.hall_id)
    return row


def check_shipment(courier: str | None, tracking_no: str | None) -> tuple[str, str]:
    """The company and the 运单号 as typed, cleaned; ProgressError names the wrong field."""
    courier = (courier or "").strip()
    number = re.sub(r"[\s-]", "", tracking_no or "").upper()
    if courier not in COURIERS:
        raise ProgressError("请选择快递公司", "courier")
    if not TRACKING_RE.match(number):
        raise ProgressError("请输入正确的快递单号(8 到 30 位字母或数字)", "tracking_no")
    return courier, number


def mark_sent(row: ResultDelivery, courier: str, tracking_no: str, staff_id: int) -> None:
    """Record that the results went out, or correct the number (更正单号): the citizen gets
    the SMS (and push) with the number and sees it on the timeline; the same number twice is
    refused, so a double tap sends one SMS."""
    try:
        courier, tracking_no = check_shipment(courier, tracking_no)
        db.session.refresh(row, with_for_update=True)
        if row.method != DeliveryMethod.COURIER:
            raise ProgressError("群众已改为到窗口领取,不需要寄出", status=409)
        if row.sent_at is not None and (row.courier, row.tracking_no) == (courier, tracking_no):
            raise ProgressError("这件已经登记寄出", status=409)
    except ProgressError:
        db.session.rollback()  # lets go of the row lock before the page is shown again
        raise
    corrected = row.sent_at is not None
    row.courier, row.tracking_no = courier, tracking_no
    row.sent_at, row.sent_by = utcnow(), staff_id
    entry = audit(row.kind, row.entity_id, "delivery_sent", actor_id=staff_id,
                  note=f"result_delivery #{row.id}",
                  public_note=(f"{'快递单号已更正:' if corrected else '结果已寄出:'}"
                               f"{courier},单号 {tracking_no}"))
    db.session.flush()
    notify(row.kind, row.entity_id, "delivery_sent",
           params={"courier": courier, "tracking": tracking_no}, key=entry.id)
    db.session.commit()


# -- Web Push subscriptions ---------------------------------------------------------------------

def save_push_subscription(user_id: int, data: dict | None) -> PushSubscription:
    """Store (or move to this citizen) a browser's subscription, as PushManager gives it."""
    data = data if isinstance(data, dict) else {}
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    endpoint, p256dh, auth = data.get("endpoint"), keys.get("p256dh"), keys.get("auth")
    if not (isinstance(endpoint, str) and endpoint.startswith("https://") and len(endpoint) <= 500
            and isinstance(p256dh, str) and 40 <= len(p256dh) <= 200
            and isinstance(auth, str) and 8 <= len(auth) <= 100):
        raise ProgressError("浏览器提供的推送订阅信息不完整,请刷新后重试")
    row = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        row = PushSubscription(endpoint=endpoint, user_id=user_id, p256dh=p256dh, auth=auth)
        db.session.add(row)
    row.user_id, row.p256dh, row.auth = user_id, p256dh, auth
    db.session.commit()
    return row


def remove_push_subscription(user_id: int, endpoint: str) -> None:
    db.session.execute(delete(PushSubscription).where(
        PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint))
    db.session.commit()
