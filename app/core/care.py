"""Care mode (关怀模式): larger text and targets, remembered in a cookie of its own."""

from flask import request

CARE_COOKIE = "care"


def care_mode() -> bool:
    """Whether this visitor has switched care mode on."""
    return request.cookies.get(CARE_COOKIE) == "1"
