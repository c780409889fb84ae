"""Mainland resident ID numbers (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check."""

import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECKS = "10X98765432"
ID_RE = re.compile(r"^\d{17}[\dX]$")


def normalize(value: str) -> str:
    """Upper-case X, no spaces: what people type on a phone keypad varies."""
    return re.sub(r"\s+", "", value or "").upper()


def check_digit(first17: str) -> str:
    return CHECKS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def problem(value: str) -> str | None:
    """None when valid, else the Chinese message to show beside the field."""
    number = normalize(value)
    if not number:
        return "请输入身份证号码"
    if not ID_RE.match(number):
        return "身份证号码应为18位,最后一位可以是数字或X"
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "身份证号码中的出生日期不正确,请检查"
    if check_digit(number[:17]) != number[17]:
        return "身份证号码校验位不正确,请核对后重新输入"
    return None
