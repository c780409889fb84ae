"""The pages that belong to no one feature: home, 我的, the halls, care mode, the staff's 工作台,
the short links (/t/) of every feature's SMS, and the PWA's manifest, service worker and offline
page."""

from flask import (
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required

from app.booking.record import booking_record
from app.catalog.halls import list_halls
from app.catalog.httpcache import public_page
from app.catalog.services import RECENT_COOKIE, active_bundles, popular_items, recently_viewed
from app.core.access import Scope, own_view, public_view, staff_view
from app.core.care import CARE_COOKIE
from app.core.links import handler, resolve
from app.core.readonly import read_only
from app.core.redirects import safe_target
from app.core.refusals import Refusal
from app.feedback.alerts import staff_alerts
from app.pages import bp
from app.pages.workbench import entries
from app.sso.services import methods as sign_in_methods


@bp.get("/")
@public_view
@read_only
def home():
    """The five entries, a search box, the popular items and bundles."""
    recent = request.cookies.get(RECENT_COOKIE)
    return public_page(lambda public_page: render_template(
        "pages/home.html", popular=popular_items(6), bundles=active_bundles(4),
        recent=recently_viewed(recent), public_page=public_page), recent)


@bp.get("/me")
@own_view()
@login_required
def me():
    """我的: who is signed in, their booking record, settings, and the way out."""
    record = None
    if not current_user.is_staff:
        record = booking_record(current_user.id)
    return render_template("pages/me.html", record=record,
                           sign_in_methods=sign_in_methods(current_user))


@bp.get("/progress")
@own_view()
def progress():
    """进度 / 我要查: the progress feature's page (signed out, it offers signing in or 一号查询)."""
    return redirect(url_for("progress.mine"))


@bp.get("/t/<token>")
@public_view
def short_link(token: str):
    """Open a short link from an SMS: one record, one purpose, until it expires."""
    link, problem = resolve(token[:40])
    view = handler(link.purpose) if link else None
    if view is None:
        title = "链接已过期" if problem == "expired" else "链接无效"
        message = ("这个链接已超过有效期。" if problem == "expired" else
                   "这个链接不完整或已失效,请检查短信中的链接是否完整。")
        raise Refusal(message, 410 if problem == "expired" else 404, title=title,
                      more="pages/_link_more.html")
    return view(link)


@bp.get("/halls")
@public_view
def halls():
    """Where the halls are, their hours and phones."""
    return render_template("pages/halls.html", halls=list_halls())


@bp.get("/care")
@public_view
def care():
    """关怀版: what care mode is, and the switch (a form of its own, so that the public pages
    linking here carry no per-visitor token)."""
    return render_template("pages/care.html", next=safe_target(request.args.get("next")))


@bp.post("/care")
@public_view
def toggle_care():
    """Switch care mode (关怀模式) and remember it for a year."""
    on = request.cookies.get(CARE_COOKIE) != "1"
    response = redirect(safe_target(request.form.get("next")), code=303)
    response.set_cookie(CARE_COOKIE, "1" if on else "0", max_age=365 * 86400, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


@bp.get("/manifest.webmanifest")
@public_view
def manifest():
    """The install manifest."""
    response = make_response(render_template("pwa/manifest.webmanifest"))
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sw.js")
@public_view
def service_worker():
    """The service worker, from the root so its scope is the whole app; never cached."""
    response = make_response(render_template("pwa/sw.js", version=_shell_version()))
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


def _shell_version() -> str:
    """Changes whenever a precached static file changes, so the worker updates."""
    names = ("css/app.css", "js/app.js", "js/ticket.js", "js/htmx-2.0.8.min.js",
             "icons/icon-192.png")
    return "-".join(current_app.jinja_env.globals["asset"](n).rsplit("=", 1)[-1][:6] for n in names)


@bp.get("/offline")
@public_view
def offline():
    """Shown by the service worker when the network is gone."""
    return render_template("pwa/offline.html")


@bp.get("/staff")
@staff_view(Scope.HALL)
def staff_home():
    """工作台: the staff's entry to every feature they can use, with what waits in each."""
    return render_template("pages/staff_home.html", entries=entries(current_user),
                           alerts=staff_alerts(current_user))


@bp.get("/favicon.ico")
@public_view
def favicon():
    return send_from_directory(current_app.static_folder, "icons/icon-192.png",
                               mimetype="image/png", max_age=86400)
