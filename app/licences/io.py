"""存量证照导入: licences from before the app, from a CSV, checked whole before anything is
written (as the catalog import does): every bad row is named, and either all or none go in."""

import csv
import io as stdio
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.auth.models import Role, User
from app.core.models import audit
from app.core.timeutil import parse_day
from app.extensions import db
from app.licences.models import Company, Licence
from app.licences.services import ENTITY, link_person
from app.licences.types import TYPES
from app.reading.codes import valid_credit_code

COLUMNS = ["type", "number", "holder_name", "holder_phone", "credit_code", "linked_phones",
           "department", "issued_on", "expires_on"]
REQUIRED = ("type", "number", "holder_name", "department", "issued_on")
LABELS = {"type": "证照类型", "number": "证照编号", "holder_name": "持证人",
          "department": "发证部门", "issued_on": "发证日期"}
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
BY_NAME = {t.name: t.code for t in TYPES.values()}


class ImportRefused(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Row:
    line: int
    type_code: str
    number: str
    holder_name: str
    holder_phone: str
    credit_code: str
    linked: list[str]
    department: str
    issued_on: date
    expires_on: date | None


def parse(data: bytes) -> list[Row]:
    """Every row checked; ImportRefused names each bad one."""
    if len(data) > 2 * 1024 * 1024:
        raise ImportRefused(["文件:不能超过 2MB"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(["文件:请保存为 UTF-8 编码的 CSV"]) from exc
    reader = csv.DictReader(stdio.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportRefused([f"文件:缺少列 {'、'.join(missing)}(第一行应为列名:"
                             f"{','.join(COLUMNS)})"])
    rows, errors, seen = [], [], set()
    for n, raw in enumerate(reader, start=2):
        row, problems = _check(n, {k: (v or "").strip() for k, v in raw.items() if k}, seen)
        errors += [f"第 {n} 行:{p}" for p in problems]
        if row:
            rows.append(row)
    if not rows and not errors:
        errors.append("文件:没有证照数据")
    if errors:
        raise ImportRefused(errors)
    return rows


def _check(n: int, raw: dict, seen: set) -> tuple[Row | None, list[str]]:
    problems = [f"缺少{LABELS[k]}({k})" for k in REQUIRED if not raw.get(k)]
    problems += _check_holder(raw)
    problems += _check_dates(raw)
    problems += _check_number(raw, seen)
    if problems:
        return None, problems
    code = BY_NAME.get(raw["type"], raw["type"])
    return Row(n, code, raw["number"], raw["holder_name"], raw.get("holder_phone", ""),
               raw.get("credit_code", "").upper(), _phones(raw), raw["department"],
               parse_day(raw["issued_on"]), _expiry(raw)), []


def _phones(raw: dict) -> list[str]:
    return [p for p in re.split(r"[|;\s]+", raw.get("linked_phones", "")) if p]


def _expiry(raw: dict) -> date | None:
    value = raw.get("expires_on", "")
    return None if value in ("", "长期", "long") else parse_day(value)


def _check_holder(raw: dict) -> list[str]:
    problems = []
    code = BY_NAME.get(raw.get("type", ""), raw.get("type", ""))
    kind = TYPES.get(code)
    if raw.get("type") and kind is None:
        problems.append(f"未知的证照类型“{raw['type']}”")
    credit = raw.get("credit_code", "").upper()
    if credit and not valid_credit_code(credit):
        problems.append(f"统一社会信用代码“{raw['credit_code']}”不正确(GB 32100 校验不通过)")
    if kind and kind.holder == "company" and not credit:
        problems.append(f"{kind.name}的持证人是企业,缺少统一社会信用代码(credit_code)")
    phone = raw.get("holder_phone", "")
    if kind and kind.holder == "person" and not phone:
        problems.append("个人证照缺少持证人手机号(holder_phone)")
    problems += [f"手机号“{p}”不正确" for p in [phone, *_phones(raw)]
                 if p and not PHONE_RE.match(p)]
    return problems


def _check_dates(raw: dict) -> list[str]:
    problems = []
    issued = parse_day(raw["issued_on"]) if raw.get("issued_on") else None
    if raw.get("issued_on") and issued is None:
        problems.append(f"发证日期“{raw['issued_on']}”应为 YYYY-MM-DD")
    expires = _expiry(raw)
    if raw.get("expires_on") and raw["expires_on"] not in ("长期", "long") and expires is None:
        problems.append(f"有效期至“{raw['expires_on']}”应为 YYYY-MM-DD,长期有效请留空")
    if issued and expires and expires <= issued:
        problems.append(f"日期顺序不对:有效期至 {expires} 不晚于发证日期 {issued}")
    return problems


def _check_number(raw: dict, seen: set) -> list[str]:
    problems = []
    code = BY_NAME.get(raw.get("type", ""), raw.get("type", ""))
    if raw.get("number"):
        key = (code, raw["number"])
        if key in seen or db.session.scalar(select(Licence.id).where(
                Licence.type_code == code, Licence.number == raw["number"])):
            problems.append(f"证照编号“{raw['number']}”重复")
        seen.add(key)
    for k, limit in (("number", 60), ("holder_name", 120), ("department", 80)):
        if len(raw.get(k, "")) > limit:
            problems.append(f"{LABELS[k]}不能超过 {limit} 个字")
    return problems


def _person(phone: str, name: str | None = None) -> User:
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(phone=phone, role=Role.CITIZEN, name=name)
        db.session.add(user)
        db.session.flush()
    return user


def import_csv(data: bytes, hall, actor) -> int:
    """All rows in one transaction, or none."""
    try:
        rows = parse(data)  # its checks look up numbers already held
    except ImportRefused:
        db.session.rollback()
        raise
    for r in rows:
        company = None
        if r.credit_code:
            company = db.session.scalar(select(Company).where(Company.credit_code == r.credit_code))
            if company is None:
                company = Company(credit_code=r.credit_code, name=r.holder_name)
                db.session.add(company)
                db.session.flush()
            for phone in [p for p in (r.holder_phone, *r.linked) if p]:
                link_person(company, _person(phone).id)
        holder = None if company else _person(r.holder_phone, r.holder_name)
        licence = Licence(type_code=r.type_code, number=r.number, holder_name=r.holder_name,
                          holder_user_id=holder.id if holder else None,
                          company_id=company.id if company else None, department=r.department,
                          hall_id=hall.id, issued_on=r.issued_on, expires_on=r.expires_on,
                          source="import")
        db.session.add(licence)
        db.session.flush()
        audit(ENTITY, licence.id, licence.status, actor_id=actor.id if actor else None,
              note=f"存量导入(第 {r.line} 行)")
    db.session.commit()
    return len(rows)
