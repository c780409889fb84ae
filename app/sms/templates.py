"""Every text the product sends, in one place. One segment is 70 characters."""

from dataclasses import dataclass

SEGMENT = 70


@dataclass(frozen=True)
class Template:
    key: str
    text: str
    urgent: bool = False  # urgent messages ignore quiet hours
    segments: int = 1  # the most this template may take, checked by a test


TEMPLATES = {t.key: t for t in [
    Template("login_code", "【掌上办】验证码{code},5分钟内有效,仅用于登录掌上办,请勿告诉他人。",
             urgent=True),
    Template("lookup_code", "【掌上办】验证码{code},5分钟内有效,用于查询办件进度,请勿告诉他人。",
             urgent=True),
]}


def render(key: str, params: dict) -> str:
    """The text of a template with its parameters; KeyError for an unknown template."""
    return TEMPLATES[key].text.format(**params)
