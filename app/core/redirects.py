"""The one check for redirect targets that come from the request (`next=`, a Referer)."""

MAX_TARGET = 2000


def safe_target(target: str | None, default: str | None = "/") -> str | None:
    """`target` when it is a path on this site, else `default`.

    A same-site path starts with one "/" and holds no "//", no backslash and no control or
    whitespace character: browsers drop tabs and newlines and read "\\" as "/", so "/\\t/evil"
    and "/\\\\evil" would both leave the site.
    """
    if not target or len(target) > MAX_TARGET or not target.startswith("/"):
        return default
    if "//" in target or "\\" in target:
        return default
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in target):
        return default
    return target
