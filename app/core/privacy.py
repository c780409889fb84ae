"""Masking of phone and ID numbers, on screen and in logs, and of names in free text."""

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


# Free text people typed (a rating, a report, a question and its answer, an FAQ): shown to staff
# and the public through redact_text only.
ID_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
PHONE_TEXT = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
LANDLINE_TEXT = re.compile(r"(?<!\d)(0\d{2,3})([- ]?)\d{4,5}(\d{3})(?!\d)")
EMAIL_TEXT = re.compile(r"([\w.+-])[\w.+-]*(@[\w-]+(?:\.[\w-]+)+)")
NAME_AFTER = re.compile(r"(我叫|我的名字是|我的名字叫|名字叫|本人叫|本人姓名|姓名[::是为]?\s*|名叫|"
                        r"联系人[::]?\s*)([\u4e00-\u9fff·]{2,4})")
HONORIFIC = re.compile(r"[\u4e00-\u9fff](?=(先生|女士|小姐|师傅|阿姨|大爷|大妈|同志|老师))")
SOMEONE = "某某"


def names_in(text: str | None) -> list[str]:
    """The names a writer gave in their text ("我叫李明", "姓名:李明"), to mask in replies too."""
    return [m.group(2) for m in NAME_AFTER.finditer(text or "")]


def redact_text(text: str | None, names=(), public: bool = False) -> str:
    """The one redaction of free text shown to staff or the public: ID numbers, mobile and
    landline numbers and e-mail addresses are masked, and so are the writer's name (`names`:
    the citizen's own name, and any names_in() what they wrote) and names they introduced.

    Numbers are masked as everywhere on screen (138****8000); in a published FAQ (`public`)
    they are removed altogether."""
    if public:
        text = ID_TEXT.sub("[证件号已隐去]", text or "")
        text = PHONE_TEXT.sub("[电话已隐去]", text)
        text = LANDLINE_TEXT.sub("[电话已隐去]", text)
        text = EMAIL_TEXT.sub("[邮箱已隐去]", text)
    else:
        text = ID_TEXT.sub(lambda m: mask_id(m.group(1)), text or "")
        text = PHONE_TEXT.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group(0))[-11:]), text)
        text = LANDLINE_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}****{m.group(3)}", text)
        text = EMAIL_TEXT.sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)
    known = {n.strip() for n in names if n and len(n.strip()) >= 2}
    for name in sorted(known | set(names_in(text)), key=len, reverse=True):
        text = text.replace(name, SOMEONE)
    text = NAME_AFTER.sub(lambda m: m.group(1) + SOMEONE, text)
    return HONORIFIC.sub("某", text).strip()


class RedactingFilter(logging.Filter):
    """Keep phone and ID numbers out of every log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
