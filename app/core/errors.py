"""Chinese error pages, as full pages or as fragments for htmx."""

import logging

from flask import current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from app.core import restore
from app.core.access import note_refusal
from app.core.refusals import Refusal
from app.htmx import is_partial

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("请求有误", "提交的内容有问题,请检查后重试。"),
    403: ("没有权限", "您没有权限查看这个页面。如需办理,请先用本人手机号登录。"),
    404: ("页面不存在", "您要找的页面或记录不存在,或已被移除。"),
    405: ("请求有误", "这个页面不接受这种操作。"),
    413: ("文件太大", "上传的内容太大了。照片不能超过 10MB,请重新拍摄或选择较小的照片。"),
    429: ("操作太频繁", "您的操作太频繁了,请稍后再试。"),
    500: ("系统繁忙", "系统出了点问题,我们已记录。请稍后再试,或拨打大厅电话咨询。"),
}
UNAVAILABLE = ("系统繁忙", "系统繁忙,请稍后再试。")
# Staff are signed in already: their 403 is about their role or hall, not about signing in.
STAFF_FORBIDDEN = "这项操作不在您的权限范围内(例如属于其他大厅)。如需调整,请联系市级管理员。"


def _staff_signed_in() -> bool:
    return bool(current_user and current_user.is_authenticated
                and getattr(current_user, "role", "citizen") != "citizen")


def _page(code: int, title: str | None = None, message: str | None = None, **extra):
    default_title, default_message = MESSAGES.get(code, MESSAGES[400])
    template = "errors/_error.html" if is_partial() else "errors/error.html"
    response = render_template(template, code=code, title=title or default_title,
                               message=message or default_message, **extra)
    return response, code, {"Vary": "HX-Request"}


def refusal_page(err: Refusal):
    """A feature's rule said no (app/core/refusals.py): its title, message and way back, with its
    status. Also for a feature's own error handler that answers with a Refusal."""
    note_refusal(err.status, err.rule, err.message)
    return _page(err.status, err.title, err.message, heading=err.heading,
                 return_url=err.way_back(), back_label=err.back_label, field=err.field,
                 more=err.more)


def init_app(app) -> None:
    """Register handlers for the statuses people meet."""
    app.register_error_handler(Refusal, refusal_page)

    @app.errorhandler(CSRFError)
    def _csrf(err):
        # Nothing is done for the person: they go back to the page, find what they typed there
        # (app/core/restore.py) and send it themselves, with a fresh token.

        fields = restore.typed_fields()
        restore.keep(fields)
        log.info("csrf refused on %s %s: %s", request.method, request.path, err.description)
        return _page(400, "页面已过期", "这一步没有完成:页面停留太久,或已在别处打开。"
                     "请回到刚才的页面,核对后再操作一次。",
                     typed=list(fields.items()), back_url=restore.way_back())

    @app.errorhandler(HTTPException)
    def _http(err):
        if err.code == 429 and getattr(err, "response", None) is not None:
            return err.response
        if err.code is None or err.code < 400:
            return err
        if err.code == 403:  # the rule that refused says why (app/core/access.py)
            told = err.description if err.description != type(err).description else None
            if told or _staff_signed_in():
                return _page(403, message=told or STAFF_FORBIDDEN)
        return _page(err.code)

    @app.errorhandler(Exception)
    def _crash(err):
        if isinstance(err, HTTPException):
            return _http(err)
        if _lost_connection(err):
            log.warning("503 on %s %s: %s", request.method, request.path, type(err).__name__)
            return _bare_page(503)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _bare_page(500)

    @app.errorhandler(InternalServerError)
    def _failed(err):  # also what Flask calls when another handler raised
        lost = _lost_connection(getattr(err, "original_exception", None) or err)
        return _bare_page(503 if lost else 500)

    app.register_error_handler(ServiceUnavailable, lambda e: _bare_page(503))


def _lost_connection(err: Exception) -> bool:
    """PostgreSQL or Redis lost, refused or too busy to answer: "busy", not broken."""
    from redis.exceptions import ConnectionError as RedisDown
    from redis.exceptions import TimeoutError as RedisSlow
    from sqlalchemy import exc

    return isinstance(err, (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError,
                            exc.TimeoutError, RedisDown, RedisSlow)) or bool(
        getattr(err, "connection_invalidated", False))


def _bare_page(code: int):
    """The 500 and 503 pages without the database or Redis: rendered straight from Jinja, so no
    context processor runs (Flask-Login's would load the signed-in user)."""
    title, message = UNAVAILABLE if code == 503 else MESSAGES[500]
    name = "errors/_error.html" if is_partial() else "errors/error.html"
    html = current_app.jinja_env.get_template(name).render(
        code=code, title=title, message=message, care_mode=request.cookies.get("care") == "1")
    headers = {"Vary": "HX-Request", "Cache-Control": "no-store"}
    if code == 503:
        headers["Retry-After"] = "10"
    return html, code, headers
