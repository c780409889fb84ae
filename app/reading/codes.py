"""The two numbers a photo is read for, and their check characters.

- 公民身份号码 (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence, and an
  ISO 7064 MOD 11-2 check (app/applications/idcard.py, shared with the applicant form).
- 统一社会信用代码 (GB 32100-2015): registering authority, organisation type, 6-digit region,
  9-character organisation code, and a MOD 31 check over the 31-character set without I, O, Z,
  S and V.
"""

import re
from datetime import date

from app.applications import idcard
from app.core.timeutil import local_today

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# 登记管理部门码 and the 机构类别码 each authority uses (GB 32100-2015, table 1).
CREDIT_TYPES = {"1": "129", "2": "19", "3": "12345689", "4": "129", "5": "1239",
                "6": "129", "7": "129", "8": "19", "9": "123", "A": "19", "N": "1239",
                "Y": "1"}
CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
ID_RE = re.compile(r"^[1-9]\d{16}[\dX]$")


def credit_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 from its first 17 (GB 32100-2015, 5.2)."""
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def valid_credit_code(code: str) -> bool:
    """Right length, characters, authority and type codes, and check character."""
    code = (code or "").upper()
    if not CREDIT_RE.match(code) or code[1] not in CREDIT_TYPES.get(code[0], ""):
        return False
    return credit_check_char(code[:17]) == code[17]


def valid_id_number(number: str) -> bool:
    """18 characters, a real birth date not in the future, and the MOD 11-2 check digit."""
    number = idcard.normalize(number)
    if not ID_RE.match(number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > local_today():
        return False
    return idcard.check_digit(number[:17]) == number[17]
