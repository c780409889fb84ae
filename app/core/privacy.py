"""Masking of phone and ID numbers, on screen and in logs."""

import logging
import re

PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
# Both need a run of 11 digits: text without one (most log lines) skips the two substitutions.
_LONG_DIGITS = re.compile(r"\d{11}")


def mask_phone(phone: str | None) -> str:
    """138****8000."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_id(number: str | None) -> str:
    """110101********123X: region kept, birth date hidden."""
    if not number:
        return ""
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "****"


def redact(text: str) -> str:
    """Mask every phone or ID number found in free text."""
    if not _LONG_DIGITS.search(text):
        return text
    text = ID_RE.sub(lambda m: m.group(1) + "********" + m.group(3), text)
    return PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


class RedactingFilter(logging.Filter):
    """Keep phone and ID numbers out of every log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
