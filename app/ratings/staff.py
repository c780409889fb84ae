"""The staff side of 好差评: rectification cases and their steps, a clerk's own ratings, the figures
(dashboard, export) and the public figures page."""

import csv
import io
from datetime import date, timedelta

from flask import (
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app.catalog.halls import hall_by_id, list_halls
from app.core.access import (
    ADMINS,
    Scope,
    public_view,
    scope,
    staff_view,
)
from app.core.ids import parse_id
from app.core.timeutil import local_today, utcnow
from app.ratings import bp, figures, rectify, rules, services
from app.ratings.charts import line_chart
from app.ratings.rules import RatingError, allowed_moves
from app.ratings.states import (
    APPEAL_REASONS,
    CONTACT_METHODS,
    INDICATORS,
    LABELS,
    LEVELS,
    PLANS,
    REASONS,
    CaseStatus,
)
from app.reading.services import agreement_for_days

CASE_FILTERS = {"active": "待处理", "overdue": "已逾期", "appeal": "申诉中", "closed": "已办结",
                "all": "全部"}

ACTIONS = {
    "contact": lambda cid, f: rectify.log_contact(cid, current_user, f.get("method", ""),
                                                   f.get("plan", ""), f.get("note"),
                                                   f.get("reply")),
    "fix": lambda cid, f: rectify.log_fix(cid, current_user, f.get("note"), f.get("reply")),
    "explain": lambda cid, f: rectify.explain(cid, current_user, f.get("reply")),
    "verify": lambda cid, f: rectify.verify(cid, current_user, f.get("satisfied", ""),
                                             f.get("note")),
    "appeal": lambda cid, f: rectify.appeal(cid, current_user, f.get("appeal_reason", ""),
                                             f.get("evidence")),
    "decide": lambda cid, f: rectify.decide_appeal(cid, current_user, f.get("decision", ""),
                                                    f.get("note")),
}


@bp.get("/ratings/cases")
@staff_view(Scope.HALL)
def cases():
    """差评整改: the hall's cases, overdue first, each with its clock."""
    shown = request.args.get("show", "active")
    shown = shown if shown in CASE_FILTERS else "active"
    rows = rectify.cases_for(current_user, shown)
    today_end = rules.end_of_local_day(local_today())
    return render_template("ratings/cases.html", cases=rows, shown=shown, filters=CASE_FILTERS,
                           now=utcnow(), today_end=today_end)


@bp.get("/ratings/cases/<int:case_id>")
@staff_view(Scope.HALL)
def case(case_id: int):
    """One case: the rating (without the rater, except masked to admins), clock and actions."""
    row = rectify.case_for_staff(case_id, current_user)
    return _case_page(row)


def _case_page(row, error=None, form=None, status=200):
    moves = allowed_moves(row.status, row.appeal_from)
    return render_template(
        "ratings/case.html", case=row, rating=row.rating, invite=row.rating.invite,
        moves=moves, steps=services.timeline(row, public=False), error=error,
        form=form or {}, now=utcnow(), methods=CONTACT_METHODS, plans=PLANS,
        appeal_reasons=APPEAL_REASONS, indicators=INDICATORS, levels=LEVELS, labels=LABELS,
        S=CaseStatus, status=status), status


@bp.post("/ratings/cases/<int:case_id>/<action>")
@staff_view(Scope.HALL)
def case_action(case_id: int, action: str):
    """One step of the case; a missing field comes back beside its form with what was typed."""
    if action not in ACTIONS:
        abort(404)
    try:
        ACTIONS[action](case_id, request.form)
    except RatingError as err:
        if err.status == 404:
            raise
        row = rectify.case_for_staff(case_id, current_user)
        form = dict(request.form, action=action, field=err.field)
        return _case_page(row, err.message, form, err.status)
    return redirect(url_for("ratings.case", case_id=case_id), code=303)


@bp.get("/ratings/staff/mine")
@staff_view(Scope.OWN)
def my_service():
    """A clerk's own ratings, without who gave them."""
    rows = services.ratings_of_clerk(current_user)
    end = local_today()
    mine = figures.Scope(start=end - timedelta(days=364), end=end, clerk_id=current_user.id)
    return render_template("ratings/my_service.html", ratings=rows, total=figures.totals(mine),
                           levels=LEVELS, indicators=INDICATORS)


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
    halls = list_halls() if scope().city_wide else []
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
    hall = hall_by_id(hall_id) or abort(404)
    today = local_today()
    start = (today.replace(day=1) - timedelta(days=335)).replace(day=1)
    months = list(reversed(figures.monthly(figures.by(
        figures.Scope(start=start, end=today, hall_id=hall.id), "day"))))
    resolved = rectify.resolved_cases(hall.id)
    answers = rectify.public_answers([r[0].id for r in resolved])
    return render_template("ratings/public.html", hall=hall, months=months, resolved=resolved,
                           answers=answers, reasons=REASONS, figure_list=figures.FIGURES)

