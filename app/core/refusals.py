"""One way for a feature to refuse: raise a Refusal; app/core/errors.py renders the page.

A Refusal carries the status, the Chinese message and maybe the form field it concerns. Routes that
re-render a form with what the person typed catch it (usually by a feature's subclass) and show
`message` beside `field`; everywhere else it goes up to the one handler, which renders the problem
page, or its fragment for htmx.
"""

from functools import wraps

from flask import url_for

from app.extensions import db

# The page's title for a status, unless the feature or the raise says otherwise.
TITLES = {400: "请检查", 403: "没有权限", 404: "没有找到", 409: "不能这样操作", 410: "已失效",
          413: "文件太大", 422: "请检查", 429: "操作太频繁"}


class Refusal(Exception):
    """A refused action: a Chinese message, an HTTP status and maybe the field it concerns.

    A feature's subclass only sets the class attributes below: its default status, the titles that
    differ from TITLES, the page's heading, the rule named in the access log, and where 返回 leads.
    """

    default_status = 400
    titles: dict[int, str] = {}
    heading: str | None = None  # the page's heading; the title when None
    rule = "refusal"
    back_endpoint: str | None = None  # None: the page leads back to 首页
    back_label = "返回"
    more: str | None = None  # a template with what else the person can do, under the message

    def __init__(self, message: str, status: int | None = None, field: str | None = None, *,
                 title: str | None = None, back_url: str | None = None, more: str | None = None):
        super().__init__(message)
        if more:
            self.more = more
        self.message, self.field = message, field
        self.status = status or self.default_status
        self.title = title or self.titles.get(self.status) or TITLES.get(self.status, "请检查")
        self.back_url = back_url

    def way_back(self) -> str | None:
        """Where the page's 返回 leads (needs a request); None for 首页."""
        if self.back_url:
            return self.back_url
        return url_for(self.back_endpoint) if self.back_endpoint else None


def rolls_back(service):
    """A service that refuses leaves nothing behind: when it raises a Refusal, its transaction is
    rolled back before the route shows the refusal (so a route never rolls back itself)."""

    @wraps(service)
    def wrapper(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except Refusal:
            db.session.rollback()
            raise

    return wrapper
