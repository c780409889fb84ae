"""Rating pages for citizens, the rectification pages for staff, the figures and the public page."""


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

from app.catalog.halls import window_by_id
from app.core.access import (
    RATE,
    Scope,
    own_view,
    public_view,
    scope,
    staff_view,
)
from app.core.links import grant_record, granted, on_link
from app.core.timeutil import utcnow
from app.ratings import bp, photos, services
from app.ratings.models import RatingInvite
from app.ratings.rules import RatingError
from app.ratings.services import RatingForm
from app.ratings.states import (
    INDICATORS,
    LEVELS,
    REASONS,
    CaseStatus,
)

# ---- the SMS link and the window's QR code ----

@on_link("rate")
def open_rate_link(link):
    """The invitation from an SMS grants that one rating in this browser, without signing in,
    once, until the rating window closes. The answer to a bad rating is the person's own: they
    sign in to read it."""
    if link.entity != "rating_invite":
        rating = services.rating_by_id(link.entity_id)
        if rating is None:
            raise RatingError("没有找到这次服务的评价。", 404)
        target = url_for("ratings.view", rating_id=link.entity_id)
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=target))
        if current_user.id != rating.invite.citizen_id:
            raise RatingError(_OTHER_PHONE, 403)
        return redirect(target)
    row = services.invite_by_id(link.entity_id)
    if row is None:
        raise RatingError("没有找到这次服务的评价。", 404)
    if current_user.is_authenticated and current_user.id != row.citizen_id:
        raise RatingError(_OTHER_PHONE, 403)
    if row.rating is None:
        services.check_open(row)  # within its window
    grant_record("rating_invite", row.id, "rate", min(link.expires_at, row.closes_at))
    if row.rating is not None:  # a second tap on the SMS: once rated, it shows the rating
        return _rated_already(row)
    services.note_link_opened(row)
    return redirect(url_for("ratings.rate", invite_id=row.id))


def _rated_already(row: RatingInvite):
    """The rating this invitation got, for someone who opens it again: the SMS link tapped twice
    (the in-app browser is often a fresh one) or the page reloaded after rating."""
    flash("您已经评价过这次服务了,下面是您的评价。", "info")
    return redirect(url_for("ratings.thanks", rating_id=row.rating.id), code=303)


_OTHER_PHONE = ("这条评价链接是发给另一个手机号的。只有办事本人可以评价,"
                "请退出后用收到短信的手机号打开。")


def _ask_sign_in(invite_id: int | None = None):
    """Someone neither signed in nor holding the invitation's link: sign in, as a view with
    @login_required would ask."""
    if current_user.is_authenticated or (invite_id and granted("rating_invite", invite_id, RATE)):
        return None
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _invite_of(rating_id: int) -> int | None:
    rating = services.rating_by_id(rating_id)
    return rating.invite_id if rating else None


@bp.get("/ratings/window/<int:window_id>")
@own_view()
@login_required
def window_entry(window_id: int):
    """From the QR code on a window: rate the visit just had there, if there is one."""
    window = window_by_id(window_id) or abort(404)
    row = services.latest_at_window(current_user, window_id)
    if row is None:
        return render_template("ratings/window_none.html", window=window)
    return redirect(url_for("ratings.rate", invite_id=row.id, via="qr"))


@bp.get("/ratings/window/<int:window_id>/qr")
@staff_view(Scope.HALL)
def window_qr(window_id: int):
    """A printable QR code for one window."""
    window = window_by_id(window_id) or abort(404)
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
    if row.rating is not None:
        return _rated_already(row)
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
        if row.rating is not None:
            return _rated_already(row)
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
        data = photos.photo_for(rating_id, current_user)
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
    return render_template("ratings/mine.html", waiting=services.waiting_for(current_user),
                           rated=services.rated_by(current_user),
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
        if err.field == "score":
            return _view_page(services.rating_for(rating_id, current_user), err.message, 400)
        raise
    return redirect(url_for("ratings.view", rating_id=rating_id), code=303)


