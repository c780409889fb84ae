"""Ratings: inviting, rating, and the rectification of bad ratings.

THE CONTRACT for the features that deliver services (bookings, applications, help requests):
call `invite()` once the service has been delivered, inside your own transaction (before your
commit), and that is all:

    from app.ratings.services import invite
    invite(channel="onsite", entity="booking", entity_id=booking.id, citizen_id=booking.user_id,
           served_at=utcnow(), hall_id=booking.hall_id, item_id=booking.item_id,
           window_id=window.id, clerk_id=current_user.id, department=item.department)

- channel: "onsite" (a visit served at a window: 一次一评) or "online" (a matter finished online:
  一事一评: completed, rejected or accepted);
- entity / entity_id: what was served ("booking", "application", "help_request"); one invite per
  entity, so calling twice returns the first invite and sends nothing more;
- served_at: naive UTC; the rating window closes RATING_WINDOW_WORKDAYS (5) working days later,
  at the end of that local day, by the hall's calendar;
- it queues the invitation SMS (short link, purpose "rate") to the citizen's phone. The link
  itself grants that one rating, without signing in (the SMS went to the phone of the person
  served), once, until the rating window closes; a different signed-in person is refused.
It returns the RatingInvite. Nothing else of this package needs to be known by other features.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.auth.models import User
from app.catalog.models import ServiceItem
from app.core.access import RATE
from app.core.links import allows
from app.core.models import AuditLog, audit
from app.core.refusals import rolls_back
from app.core.timeutil import local_day, utcnow
from app.extensions import db
from app.ratings.models import Rating, RatingInvite, Rectification
from app.ratings.photos import check_photo, store_photo
from app.ratings.rectify import set_clock
from app.ratings.rules import (
    TEXT_MAX,
    RatingError,
    S,
    absolute_link,
    is_good,
    refresh_figures,
    setting,
    workday_deadline,
)
from app.ratings.states import (
    CHANNELS,
    ENTITIES,
    INDICATORS,
    LEVELS,
    REASONS,
)
from app.sms.services import queue_sms

# ---- inviting ----

# How the person was served decides the invitation's words: only a visit thanks them for coming
# to the hall (the template's {hall}).
SERVICE_TEMPLATES = {"visit": "rating_invite", "online": "rating_invite_online",
                     "phone": "rating_invite_phone", "home": "rating_invite_home"}
SERVICE_WORDS = {"visit": "大厅办事", "online": "网上预审", "phone": "电话帮办", "home": "上门帮办"}


def invite(channel: str, entity: str, entity_id: int, citizen_id: int, served_at: datetime,
           hall_id: int, item_id: int | None = None, window_id: int | None = None,
           clerk_id: int | None = None, department: str | None = None,
           service: str | None = None, sms: bool = True) -> RatingInvite:
    """Give the person served the right to rate it once, and send them the invitation SMS.

    `service` (visit, online, phone, home; by default from the channel) words the SMS. With
    `sms=False` the caller carries `rate_link(invite)` in its own outcome SMS instead."""
    if channel not in CHANNELS or entity not in ENTITIES:
        raise ValueError(f"unknown channel or entity: {channel}, {entity}")
    service = service or ("visit" if channel == "onsite" else "online")
    if service not in SERVICE_TEMPLATES:
        raise ValueError(f"unknown service: {service}")
    existing = db.session.scalar(select(RatingInvite).where(
        RatingInvite.entity == entity, RatingInvite.entity_id == entity_id))
    if existing:
        return existing
    row = new_invite(channel, entity, entity_id, citizen_id, served_at, hall_id, item_id,
                     window_id, clerk_id, department)
    citizen = db.session.get(User, citizen_id)
    if sms and citizen and citizen.phone:
        queue_sms(citizen.phone, SERVICE_TEMPLATES[service],
                  {"hall": row.hall.short_name, "link": rate_link(row),
                   "days": setting("RATING_WINDOW_WORKDAYS")},
                  key=f"rating-invite-{row.id}")
    return row


def is_open(row: RatingInvite) -> bool:
    """Not rated yet, and its window has not closed."""
    return row.rated_at is None and row.closes_at >= utcnow()


def rate_link(row: RatingInvite) -> str:
    """The short link (purpose "rate") that opens this one invitation until its window closes."""
    days = (row.closes_at - utcnow()).days + 2
    return absolute_link("rate", "rating_invite", row.id, max(days, 1),
                          expires_at=row.closes_at)  # the link ends with the window


def new_invite(channel, entity, entity_id, citizen_id, served_at, hall_id, item_id=None,
               window_id=None, clerk_id=None, department=None) -> RatingInvite:
    """The invite row alone (demo data and tests of the window use it without an SMS)."""
    if department is None and item_id:
        item = db.session.get(ServiceItem, item_id)
        department = item.department if item else ""
    row = RatingInvite(
        channel=channel, entity=entity, entity_id=entity_id, citizen_id=citizen_id,
        hall_id=hall_id, item_id=item_id, window_id=window_id, clerk_id=clerk_id,
        department=department or "", served_at=served_at, served_day=local_day(served_at),
        closes_at=workday_deadline(served_at, setting("RATING_WINDOW_WORKDAYS"), hall_id))
    db.session.add(row)
    db.session.flush()
    return row


def invite_for(invite_id: int, user) -> RatingInvite:
    """The invite if it is this person's, or opened from its invitation SMS in this browser;
    anyone else is told it does not exist."""
    row = db.session.get(RatingInvite, invite_id)
    owner = row is not None and user.is_authenticated and row.citizen_id == user.id
    if row is None or not (owner or allows("rating_invite", invite_id, RATE)):
        raise RatingError("没有找到这次服务的评价。只有办事本人可以评价,请确认登录的手机号。", 404)
    return row


def check_open(row: RatingInvite) -> None:
    """Refuse a second rating, and a rating after the window has closed."""
    if row.rated_at is not None:
        raise RatingError("您已经评价过这次服务了。每次服务只能评价一次,感谢您的反馈。", 409)
    if row.closes_at < utcnow():
        raise RatingError(
            f"这次服务的评价期已结束。服务完成后 {setting('RATING_WINDOW_WORKDAYS')} 个工作日内"
            "可以评价;如有意见,可拨打大厅咨询电话反映。", 410)


def note_link_opened(row: RatingInvite) -> None:
    """Remember that the invitation SMS brought the person here: an invited rating."""
    if row.link_opened_at is None:
        row.link_opened_at = utcnow()
        db.session.commit()


def latest_at_window(user, window_id: int) -> RatingInvite | None:
    """This person's most recent served visit at a window that is still open for rating."""
    return db.session.scalar(
        select(RatingInvite).where(
            RatingInvite.citizen_id == user.id, RatingInvite.window_id == window_id,
            RatingInvite.rated_at.is_(None), RatingInvite.closes_at >= utcnow(),
            RatingInvite.served_at <= utcnow())
        .order_by(RatingInvite.served_at.desc()).limit(1))


# ---- rating ----

@dataclass
class RatingForm:
    """What the person chose; kept to show back when something is missing."""

    score: int | None = None
    scores: dict | None = None
    reasons: list | None = None  # a bad rating's reasons: one or several of REASONS
    reason_text: str = ""
    reason: str = ""  # one reason alone (callers that choose one)
    photo: bytes | None = None  # optional, with a bad rating only


def parse_score(raw) -> int:
    try:
        score = int(raw)
    except (TypeError, ValueError):
        score = 0
    if score not in LEVELS:
        raise RatingError("请选择您对这次服务的满意程度", 400, "score")
    return score


@rolls_back
def submit_rating(invite_id: int, user, form: RatingForm, source: str = "app") -> Rating:
    """Record a rating once; a bad one needs a reason and opens a rectification case."""
    row = invite_for(invite_id, user)
    row = db.session.get(RatingInvite, row.id, with_for_update=True, populate_existing=True)
    check_open(row)
    score = parse_score(form.score)
    names = INDICATORS[row.channel]
    scores = {k: int(v) for k, v in (form.scores or {}).items()
              if k in names and str(v).isdecimal() and int(v) in LEVELS}
    reasons, text = [], None
    if not is_good(score):
        chosen = form.reasons or ([form.reason] if form.reason else [])
        reasons = [key for key in REASONS if key in chosen]
        if not reasons:
            raise RatingError("请选择不满意的原因(可多选)", 400, "reason")
        text = (form.reason_text or "").strip() or None
        if text and len(text) > TEXT_MAX:
            raise RatingError(f"补充说明不能超过 {TEXT_MAX} 字", 400, "reason_text")
        if form.photo:
            check_photo(form.photo)
    source = "sms" if row.link_opened_at else (source if source in ("qr", "app") else "app")
    rating = Rating(invite=row, score=score, scores=scores, source=source,
                    self_initiated=source != "sms", reason=reasons[0] if reasons else None,
                    reasons=reasons, reason_text=text)
    row.rated_at = utcnow()
    db.session.add(rating)
    db.session.flush()
    if reasons and form.photo:
        store_photo(rating, form.photo)
    audit("rating_invite", row.id, "rated", actor_id=row.citizen_id, from_status="invited",
          public_note=f"您评价了这次服务:{LEVELS[score]}。")
    if not is_good(score):
        _open_case(rating, row.citizen_id)
    db.session.flush()
    refresh_figures(row)
    db.session.commit()
    return rating


def _open_case(rating: Rating, citizen_id: int) -> Rectification:
    row = rating.invite
    case = Rectification(rating=rating, hall_id=row.hall_id, department=row.department,
                         clerk_id=row.clerk_id, status=S.OPEN)
    db.session.add(case)
    db.session.flush()
    set_clock(case, S.OPEN, utcnow())
    days = setting("RATING_CONTACT_WORKDAYS")
    audit("rectification", case.id, S.OPEN, actor_id=citizen_id,
          note=f"差评:{rating.reason_label}",
          public_note=f"您的意见已转交{row.hall.short_name}处理,工作人员将在 {days} 个工作日内"
                      "与您联系。")
    return case


def rating_for(rating_id: int, user, by_link: bool = False) -> Rating:
    """The citizen's own rating (with `by_link`, also the one just given through its invitation
    SMS in this browser); anyone else is told it does not exist."""
    rating = db.session.get(Rating, rating_id)
    owner = rating is not None and user.is_authenticated and rating.invite.citizen_id == user.id
    linked = by_link and rating is not None and allows("rating_invite", rating.invite_id, RATE)
    if rating is None or not (owner or linked):
        raise RatingError("没有找到这条评价。", 404)
    return rating


@rolls_back
def say_more(rating_id: int, user, scores: dict, text: str) -> Rating:
    """还想说说: the 分项评价 and a few words added to a good rating just given, once, while its
    rating window is open."""
    rating = rating_for(rating_id, user, by_link=True)
    row = db.session.get(RatingInvite, rating.invite_id, with_for_update=True,
                         populate_existing=True)
    if row.closes_at < utcnow():
        raise RatingError("这次服务的评价期已结束。", 410)
    if rating.scores or rating.reason_text or not is_good(rating.score):
        raise RatingError("这条评价已经补充过了,感谢您的反馈。", 409)
    names = INDICATORS[row.channel]
    rating.scores = {k: int(v) for k, v in scores.items()
                     if k in names and str(v).isdecimal() and int(v) in LEVELS}
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        raise RatingError(f"补充说明不能超过 {TEXT_MAX} 字", 400, "reason_text")
    rating.reason_text = text or None
    if not rating.scores and not rating.reason_text:
        raise RatingError("请至少选一项分项评价或写几句话", 400, "scores")
    audit("rating_invite", row.id, "said_more", actor_id=row.citizen_id)
    db.session.commit()
    return rating


@rolls_back
def rate_outcome(rating_id: int, user, raw_score) -> Rectification:
    """The citizen rates how their bad rating was put right, once, after an answer."""
    rating = rating_for(rating_id, user)
    if rating.case is None:
        raise RatingError("这条评价没有整改记录。", 404)
    case = db.session.get(Rectification, rating.case.id, with_for_update=True,
                          populate_existing=True)
    if case.outcome_score is not None:
        raise RatingError("您已经评价过整改结果了。", 409)
    if case.rectified_at is None and case.status != S.EXPLAINED:
        raise RatingError("工作人员还没有答复整改结果,答复后可以评价。", 409)
    case.outcome_score = parse_score(raw_score)
    case.outcome_at = utcnow()
    audit("rectification", case.id, "outcome_rated", actor_id=user.id, from_status=case.status,
          note=f"群众评价整改结果:{LEVELS[case.outcome_score]}",
          public_note=f"您评价了整改结果:{LEVELS[case.outcome_score]}。")
    refresh_figures(rating.invite)
    db.session.commit()
    return case


def timeline(case: Rectification, public: bool = True) -> list[AuditLog]:
    """The case's audit rows, newest first (only those with a citizen-facing note if public)."""
    query = select(AuditLog).where(AuditLog.entity == "rectification",
                                   AuditLog.entity_id == case.id)
    if public:
        query = query.where(AuditLog.public_note.is_not(None))
    return list(db.session.scalars(query.order_by(AuditLog.created_at.desc(),
                                                  AuditLog.id.desc())))


# ---- what the pages read ----

def rating_by_id(rating_id: int) -> Rating | None:
    return db.session.get(Rating, rating_id)


def invite_by_id(invite_id: int) -> RatingInvite | None:
    return db.session.get(RatingInvite, invite_id)


def waiting_for(user) -> list[RatingInvite]:
    """This person's services still open for rating, the latest first."""
    return list(db.session.scalars(select(RatingInvite).where(
        RatingInvite.citizen_id == user.id, RatingInvite.rated_at.is_(None),
        RatingInvite.closes_at >= utcnow()).order_by(RatingInvite.served_at.desc())))


def rated_by(user) -> list[Rating]:
    """This person's ratings, the latest first."""
    return list(db.session.scalars(select(Rating).join(RatingInvite).where(
        RatingInvite.citizen_id == user.id).order_by(Rating.id.desc())))


def ratings_of_clerk(user) -> list[Rating]:
    """The ratings of a clerk's own service, the latest 200 (the page never shows who rated)."""
    return list(db.session.scalars(select(Rating).join(RatingInvite).where(
        RatingInvite.clerk_id == user.id).order_by(Rating.id.desc()).limit(200)))
