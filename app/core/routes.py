"""Short links (/t/) and what every template knows (care mode, the current path)."""

from flask import request, url_for

from app.core import bp
from app.core.access import public_view
from app.core.care import care_mode
from app.core.links import handler, resolve
from app.core.refusals import Refusal


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
                      more="core/_link_more.html")
    return view(link)


@bp.app_context_processor
def _globals():
    return {"care_mode": care_mode(),
            "current_path": request.full_path.rstrip("?") if request else "/",
            "login_url": url_for("auth.login")}
