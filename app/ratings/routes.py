"""Rating pages for citizens, the rectification pages for staff, the figures and the public page."""

import csv
import io
from datetime import date, timedelta

import segno
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from app.catalog.models import Hall, ServiceItem, Window
from app.core.access import (
    ADMINS,
    RATE,
    Scope,
    own_view,
    public_view,
    scope,
    staff_view,
)
from app.core.ids import parse_id
from app.core.links import grant_record, granted, on_link
from app.core.models import AuditLog
from app.core.privacy import redact_text
from app.core.timeutil import local_today, utcnow
from app.extensions import db
from app.ratings import bp, figures, services
from app.ratings.charts import line_chart
from app.ratings.models import Rating, RatingInvite, Rectification
from app.ratings.services import RatingError, RatingForm
from app.ratings.states import (
    APPEAL_REASONS,
    CLOCKED,
    CLOSED,
    CONTACT_METHODS,
    INDICATORS,
    LABELS,
    LEVELS,
    PLANS,
    REASONS,
    CaseStatus,
    allowed_moves,
)
from app.reading.services import agreement_for_days

# ---- the SMS link and the window's QR code ----

@on_link("rate")
def open_rate_link(link):
    """The invitation from an SMS grants that one rating in this browser, without signing in,
    once, until the rating window closes. The answer to a bad rating is the person's own: they
    sign in to read it."""
    if link.entity != "rating_invite":
        rating = db.session.get(Rating, link.entity_id)
        if rating is None:
            raise RatingError("没有找到这次服务的评价。", 404)
        target = url_for("ratings.view", rating_id=link.entity_id)
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=target))
        if current_user.id != rating.invite.citizen_id:
            raise RatingError(_OTHER_PHONE, 403)
        return redirect(target)
    row = db.session.get(RatingInvite, link.entity_id)
    if row is None:
        raise RatingError("没有找到这次服务的评价。", 404)
    if current_user.is_authenticated and current_user.id != row.citizen_id:
        raise RatingError(_OTHER_PHONE, 403)
    services.check_open(row)  # once per invitation, within its window
    grant_record("rating_invite", row.id, "rate", min(link.expires_at, row.closes_at))
    services.note_link_opened(row)
    return redirect(url_for("ratings.rate", invite_id=row.id))


_OTHER_PHONE = ("这条评价链接是发给另一个手机号的。只有办事本人可以评价,"
                "请退出后用收到短信的手机号打开。")


def _ask_sign_in(invite_id: int | None = None):
    """Someone neither signed in nor holding the invitation's link: sign in, as a view with
    @login_required would ask."""
    if current_user.is_authenticated or (invite_id and granted("rating_invite", invite_id, RATE)):
        return None
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _invite_of(rating_id: int) -> int | None:
    rating = db.session.get(Rating, rating_id)
    return rating.invite_id if rating else None


@bp.get("/ratings/window/<int:window_id>")
@own_view()
@login_required
def window_entry(window_id: int):
    """From the QR code on a window: rate the visit just had there, if there is one."""
    window = db.get_or_404(Window, window_id)
    row = services.latest_at_window(current_user, window_id)
    if row is None:
        return render_template("ratings/window_none.html", window=window)
    return redirect(url_for("ratings.rate", invite_id=row.id, via="qr"))


@bp.get("/ratings/window/<int:window_id>/qr")
@staff_view(Scope.HALL)
def window_qr(window_id: int):
    """A printable QR code for one window."""
    window = db.get_or_404(Window, window_id)
    scope().read(window.hall_id)
    url = url_for("ratings.window_entry", window_id=window.id, _external=True)
    svg = segno.make(url, error="m").svg_inline(scale=6, dark="#000", light="#fff")
    return render_template("ratings/window_qr.html", window=window, svg=svg, url=url)


# ---- rating ----

@bp.get("/ratings/<int:invite_id>")
@own_view(RATE)
def rate(invite_id: int):
    """Step one: five faces, nothing chosen; 非常满意 and 满意 save on the tap."""
    if (ask := _ask_sign_in(invite_id)) is not None:
        return ask
    row = services.invite_for(invite_id, current_user)
    services.check_open(row)
    return render_template("ratings/rate.html", invite=row, levels=LEVELS,
                           via=request.args.get("via", ""))


@bp.get("/ratings/<int:invite_id>/details")
@own_view(RATE)
def details(invite_id: int):
    """Step two (基本满意 and below): the reasons when the rating is bad, then 提交评价, with the
    optional 分项评价 folded under it."""
    if (ask := _ask_sign_in(invite_id)) is not None:
        return ask
    try:
        row = services.invite_for(invite_id, current_user)
        services.check_open(row)
        score = services.parse_score(request.args.get("score"))
    except RatingError as err:
        if err.field == "score":
            return render_template("ratings/rate.html", invite=row, levels=LEVELS,
                                   via=request.args.get("via", ""), error=err.message), 400
        raise
    return _details_page(row, RatingForm(score=score, scores={}), request.args.get("via", ""))


def _details_page(row, form, via, error=None, status=200, photo_lost=False):
    return render_template("ratings/details.html", invite=row, form=form, via=via, error=error,
                           levels=LEVELS, indicators=INDICATORS[row.channel],
                           reasons=REASONS, photo_lost=photo_lost,
                           max_mb=current_app.config["UPLOAD_MAX_BYTES"] // 1024 // 1024), status


@bp.get("/ratings/photo/<int:rating_id>")
@own_view(staff=Scope.HALL)
@login_required
def photo(rating_id: int):
    """A bad rating's photo: private, for the person who rated and the hall's staff."""
    try:
        data = services.photo_for(rating_id, current_user)
    except (RatingError, FileNotFoundError):
        abort(404)
    return Response(data, mimetype="image/jpeg",
                    headers={"Cache-Control": "private, max-age=3600"})


@bp.post("/ratings/<int:invite_id>")
@own_view(RATE)
def submit(invite_id: int):
    """Record the rating; a bad one without a reason comes back with what was chosen."""
    if (ask := _ask_sign_in(invite_id)) is not None:
        return ask
    scores = {k[len("ind_"):]: v for k, v in request.form.items() if k.startswith("ind_") and v}
    upload = next((f for f in (request.files.get("photo_camera"),
                                request.files.get("photo_album")) if f and f.filename), None)
    form = RatingForm(score=request.form.get("score"), scores=scores,
                      reasons=request.form.getlist("reason"),
                      reason_text=request.form.get("reason_text", ""),
                      photo=upload.read() if upload else None)
    via = request.form.get("via", "")
    try:
        rating = services.submit_rating(invite_id, current_user, form,
                                        source="qr" if via == "qr" else "app")
    except RatingError as err:
        db.session.rollback()
        if err.field:
            row = services.invite_for(invite_id, current_user)
            if err.field == "score":
                return render_template("ratings/rate.html", invite=row, levels=LEVELS, via=via,
                                       error=err.message), err.status
            form.score = int(form.score)
            form.reason = ""
            return _details_page(row, form, via, err, err.status, photo_lost=bool(form.photo))
        raise
    return redirect(url_for("ratings.thanks", rating_id=rating.id), code=303)


@bp.get("/ratings/r/<int:rating_id>/thanks")
@own_view(RATE)
def thanks(rating_id: int):
    """The receipt: the reference, what happens next, and 还想说说? after a good rating."""
    if (ask := _ask_sign_in(_invite_of(rating_id))) is not None:
        return ask
    rating = services.rating_for(rating_id, current_user, by_link=True)
    return _thanks_page(rating)


def _thanks_page(rating, error=None, form=None, status=200):
    can_say_more = (rating.good and not rating.scores and not rating.reason_text
                    and rating.invite.closes_at >= utcnow())
    return render_template("ratings/thanks.html", rating=rating, levels=LEVELS,
                           indicators=INDICATORS[rating.invite.channel],
                           can_say_more=can_say_more, error=error, form=form or {},
                           contact_days=services.setting("RATING_CONTACT_WORKDAYS")), status


@bp.post("/ratings/r/<int:rating_id>/more")
@own_view(RATE)
def say_more(rating_id: int):
    """还想说说: the 分项评价 and a few words added to a good rating just given."""
    if (ask := _ask_sign_in(_invite_of(rating_id))) is not None:
        return ask
    scores = {k[len("ind_"):]: v for k, v in request.form.items() if k.startswith("ind_") and v}
    text = request.form.get("reason_text", "")
    try:
        services.say_more(rating_id, current_user, scores, text)
    except RatingError as err:
        db.session.rollback()
        if err.field:
            rating = services.rating_for(rating_id, current_user, by_link=True)
            return _thanks_page(rating, err, {"scores": scores, "text": text}, err.status)
        raise
    flash("已收到您的补充,感谢!", "success")
    return redirect(url_for("ratings.thanks", rating_id=rating_id), code=303)


@bp.get("/ratings")
@public_view
def start():
    """我要评 from the home page: the person's services waiting for a rating, or how to rate."""
    if current_user.is_authenticated and not current_user.is_staff:
        return redirect(url_for("ratings.mine"))
    return render_template("ratings/how.html",
                           rating_days=services.setting("RATING_WINDOW_WORKDAYS"))


@bp.get("/ratings/mine")
@own_view()
@login_required
def mine():
    """我的评价: services waiting for a rating, and ratings with the answers to them."""
    waiting = db.session.scalars(select(RatingInvite).where(
        RatingInvite.citizen_id == current_user.id, RatingInvite.rated_at.is_(None),
        RatingInvite.closes_at >= utcnow()).order_by(RatingInvite.served_at.desc())).all()
    rated = db.session.scalars(select(Rating).join(RatingInvite).where(
        RatingInvite.citizen_id == current_user.id).order_by(Rating.id.desc())).all()
    return render_template("ratings/mine.html", waiting=waiting, rated=rated,
                           rating_days=services.setting("RATING_WINDOW_WORKDAYS"))


@bp.get("/ratings/r/<int:rating_id>")
@own_view()
@login_required
def view(rating_id: int):
    """One rating: the answers in a timeline, newest first, and the outcome to rate."""
    rating = services.rating_for(rating_id, current_user)
    return _view_page(rating)


def _view_page(rating, error=None, status=200):
    case = rating.case
    steps = services.timeline(case) if case else []
    can_rate = bool(case and case.outcome_score is None and
                    (case.rectified_at is not None or case.status == CaseStatus.EXPLAINED))
    return render_template("ratings/view.html", rating=rating, case=case, steps=steps,
                           can_rate=can_rate, levels=LEVELS, error=error), status


@bp.post("/ratings/r/<int:rating_id>/outcome")
@own_view()
@login_required
def rate_outcome(rating_id: int):
    """The citizen's rating of how their bad rating was put right."""
    try:
        services.rate_outcome(rating_id, current_user, request.form.get("score"))
    except RatingError as err:
        db.session.rollback()
        if err.field == "score":
            return _view_page(services.rating_for(rating_id, current_user), err.message, 400)
        raise
    return redirect(url_for("ratings.view", rating_id=rating_id), code=303)


# ---- rectification cases (staff) ----

CASE_FILTERS = {"active": "待处理", "overdue": "已逾期", "appeal": "申诉中", "closed": "已办结",
                "all": "全部"}


@bp.get("/ratings/cases")
@staff_view(Scope.HALL)
def cases():
    """差评整改: the hall's cases, overdue first, each with its clock."""
    shown = request.args.get("show", "active")
    shown = shown if shown in CASE_FILTERS else "active"
    query = select(Rectification).join(Rating).join(RatingInvite).where(
        scope().limit(Rectification.hall_id))
    clocked = [str(s) for s in CLOCKED]
    if shown == "active":
        # an upheld appeal on a case that was already closed has no clock left to run
        query = query.where(Rectification.status.in_(clocked), Rectification.due_at.is_not(None))
    elif shown == "overdue":
        query = query.where(Rectification.status.in_(clocked), Rectification.due_at < utcnow())
    elif shown == "appeal":
        query = query.where(Rectification.status == CaseStatus.UNDER_APPEAL)
    elif shown == "closed":
        query = query.where(Rectification.status.in_([str(s) for s in CLOSED]) | (
            (Rectification.status == CaseStatus.UPHELD) & Rectification.due_at.is_(None)))
    rows = db.session.scalars(query.order_by(Rectification.due_at.is_(None),
                                             Rectification.due_at, Rectification.id.desc())
                              .limit(200)).all()
    today_end = services.end_of_local_day(local_today())
    return render_template("ratings/cases.html", cases=rows, shown=shown, filters=CASE_FILTERS,
                           now=utcnow(), today_end=today_end)


@bp.get("/ratings/cases/<int:case_id>")
@staff_view(Scope.HALL)
def case(case_id: int):
    """One case: the rating (without the rater, except masked to admins), clock and actions."""
    row = services.case_for_staff(case_id, current_user)
    return _case_page(row)


def _case_page(row, error=None, form=None, status=200):
    moves = allowed_moves(row.status, row.appeal_from)
    return render_template(
        "ratings/case.html", case=row, rating=row.rating, invite=row.rating.invite,
        moves=moves, steps=services.timeline(row, public=False), error=error,
        form=form or {}, now=utcnow(), methods=CONTACT_METHODS, plans=PLANS,
        appeal_reasons=APPEAL_REASONS, indicators=INDICATORS, levels=LEVELS, labels=LABELS,
        S=CaseStatus, status=status), status


ACTIONS = {
    "contact": lambda cid, f: services.log_contact(cid, current_user, f.get("method", ""),
                                                   f.get("plan", ""), f.get("note"),
                                                   f.get("reply")),
    "fix": lambda cid, f: services.log_fix(cid, current_user, f.get("note"), f.get("reply")),
    "explain": lambda cid, f: services.explain(cid, current_user, f.get("reply")),
    "verify": lambda cid, f: services.verify(cid, current_user, f.get("satisfied", ""),
                                             f.get("note")),
    "appeal": lambda cid, f: services.appeal(cid, current_user, f.get("appeal_reason", ""),
                                             f.get("evidence")),
    "decide": lambda cid, f: services.decide_appeal(cid, current_user, f.get("decision", ""),
                                                    f.get("note")),
}


@bp.post("/ratings/cases/<int:case_id>/<action>")
@staff_view(Scope.HALL)
def case_action(case_id: int, action: str):
    """One step of the case; a missing field comes back beside its form with what was typed."""
    if action not in ACTIONS:
        abort(404)
    try:
        ACTIONS[action](case_id, request.form)
    except RatingError as err:
        db.session.rollback()
        if err.status == 404:
            raise
        row = services.case_for_staff(case_id, current_user)
        form = dict(request.form, action=action, field=err.field)
        return _case_page(row, err.message, form, err.status)
    return redirect(url_for("ratings.case", case_id=case_id), code=303)


@bp.get("/ratings/staff/mine")
@staff_view(Scope.OWN)
def my_service():
    """A clerk's own ratings, without who gave them."""
    rows = db.session.scalars(select(Rating).join(RatingInvite).where(
        RatingInvite.clerk_id == current_user.id).order_by(Rating.id.desc()).limit(200)).all()
    end = local_today()
    mine = figures.Scope(start=end - timedelta(days=364), end=end, clerk_id=current_user.id)
    return render_template("ratings/my_service.html", ratings=rows, total=figures.totals(mine),
                           levels=LEVELS, indicators=INDICATORS)


# ---- figures ----

def _figures_scope() -> tuple[figures.Scope, dict]:
    """What to count, from the query string, within the hall(s) of the staff scope."""
    today = local_today()

    def day(name, default):
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return default

    end = day("to", today)
    start = day("from", end - timedelta(days=29))
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=366 * 3))

    def number(name):
        value = request.args.get(name, "")
        return parse_id(value)

    hall_id = scope().hall_id  # their own hall; a city-wide admin's pick (?hall=) or every hall
    chosen = figures.Scope(start=start, end=end, hall_id=hall_id,
                          department=request.args.get("department") or None,
                          item_id=number("item"), window_id=number("window"),
                          clerk_id=number("clerk"))
    params = {k: v for k, v in {
        "from": start.isoformat(), "to": end.isoformat(),
        "hall": hall_id if scope().picked else None,
        "department": chosen.department, "item": chosen.item_id, "window": chosen.window_id,
        "clerk": chosen.clerk_id}.items() if v not in (None, "")}
    return chosen, params


@bp.get("/ratings/dashboard")
@staff_view(Scope.HALL, roles=ADMINS)
def dashboard():
    """好差评统计: the figures for a date range, a chart of each over time, and breakdowns."""
    chosen, params = _figures_scope()
    dims = ["day", "department", "item", "window", "clerk"] + (["hall"] if chosen.hall_id is None
                                                              else [])
    groups = figures.by_many(chosen, dims)
    daily = groups.pop("day")
    monthly = (chosen.end - chosen.start).days > 62
    buckets = figures.monthly(daily) if monthly else daily
    labels = [b.label for b in buckets]
    charts = [line_chart(k, label, labels, [b.rates[k] for b in buckets])
              for k, label, _, _ in figures.FIGURES]
    charts.append(line_chart("overdue", "逾期整改", labels, [b.counts["overdue"] for b in buckets],
                             percent=False))
    breakdowns = {"hall": groups.pop("hall")} if "hall" in groups else {}
    breakdowns.update(groups)
    halls = db.session.scalars(select(Hall).order_by(Hall.id)).all() if scope().city_wide else []
    return render_template(
        "ratings/dashboard.html", scope=chosen, params=params, total=figures.total_of(daily),
        reading=agreement_for_days(chosen.hall_id, chosen.start, chosen.end),
        charts=charts, breakdowns=breakdowns, dims=figures.DIMENSIONS, halls=halls,
        monthly=monthly, figure_list=figures.FIGURES,
        open_overdue=figures.open_overdue(chosen.hall_id))


@bp.get("/ratings/dashboard.csv")
@staff_view(Scope.HALL, roles=ADMINS)
def export():
    """The figures as CSV, grouped by day or by any dimension."""
    chosen, _ = _figures_scope()
    dim = request.args.get("by", "day")
    dim = dim if dim in figures.DIMENSIONS else "day"
    rows = figures.by(chosen, dim)
    out = io.StringIO()
    writer = csv.writer(out)
    counts = ["invites", "counted", "good", "bad", "unrated", "replied", "verified", "overdue"]
    heads = ["服务数", "评价数", "好评数", "差评数", "未评价数", "差评已回复", "已回访整改",
             "逾期整改"]
    writer.writerow([figures.DIMENSIONS[dim][0], *heads] + [f[1] + "(%)" for f in figures.FIGURES])
    for row in rows:
        writer.writerow([row.label] + [row.counts[c] for c in counts] +
                        ["" if row.rates[f[0]] is None else row.rates[f[0]]
                         for f in figures.FIGURES])
    name = f"ratings-{dim}-{chosen.start}-{chosen.end}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}",
                             "Cache-Control": "private, no-store"})


@bp.get("/halls/<int:hall_id>/ratings")
@public_view
def public(hall_id: int):
    """The hall's monthly figures and its resolved bad ratings, anonymised, for everyone."""
    hall = db.get_or_404(Hall, hall_id)
    today = local_today()
    start = (today.replace(day=1) - timedelta(days=335)).replace(day=1)
    months = list(reversed(figures.monthly(figures.by(
        figures.Scope(start=start, end=today, hall_id=hall.id), "day"))))
    resolved = db.session.execute(
        select(Rectification, Rating.reason, ServiceItem.name, RatingInvite.served_day)
        .join(Rating, Rectification.rating_id == Rating.id)
        .join(RatingInvite, Rating.invite_id == RatingInvite.id)
        .outerjoin(ServiceItem, RatingInvite.item_id == ServiceItem.id)
        .where(Rectification.hall_id == hall.id,
               Rectification.status.in_([CaseStatus.VERIFIED, CaseStatus.EXPLAINED]))
        .order_by(Rectification.updated_at.desc()).limit(20)).all()
    answers = _answers([r[0].id for r in resolved])
    return render_template("ratings/public.html", hall=hall, months=months, resolved=resolved,
                           answers=answers, reasons=REASONS, figure_list=figures.FIGURES)


def _answers(case_ids: list[int]) -> dict[int, str]:
    """What was done about each case, as told to the citizen (their own words never appear)."""
    if not case_ids:
        return {}
    rows = db.session.execute(select(AuditLog.entity_id, AuditLog.public_note).where(
        AuditLog.entity == "rectification", AuditLog.entity_id.in_(case_ids),
        AuditLog.to_status.in_([CaseStatus.RECTIFIED, CaseStatus.EXPLAINED]))
        .order_by(AuditLog.id)).all()
    return {case_id: redact_text(note) for case_id, note in rows}
