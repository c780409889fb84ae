"""Licences: issuing on 办结, revoking and replacing, the wallet, 免提交 for materials, and who
may see what (every staff view recorded in 用证记录). 亮证 and its check are in showing.py.

Services own the transaction; every status change goes through `move()`.
"""

import logging
import secrets
from datetime import date, timedelta

from flask import url_for
from flask_login import current_user
from sqlalchemy import or_, select

from app.applications.drafts import check_editable, material_of
from app.applications.models import Application, AppMaterial
from app.applications.states import Status as AppStatus
from app.core.access import scope
from app.core.models import AuditLog, audit
from app.core.refusals import Refusal, rolls_back
from app.core.states import machine, move
from app.core.timeutil import local_now
from app.extensions import db
from app.licences import sources
from app.licences.models import Company, CompanyMember, Licence, LicenceUse
from app.licences.states import ALLOWED, LABELS, REFUSALS, SMS, Status
from app.licences.types import TYPES, name_of
from app.reading.codes import valid_credit_code
from app.sms.services import queue_sms

log = logging.getLogger(__name__)
ENTITY = "licence"
LOOKUP_FAILED = "电子证照查询暂时不可用,请拍照上传本材料"


class LicenceError(Refusal):
    """A refused action on a licence (a Refusal); 返回 leads to the wallet or the staff list."""

    default_status = 409
    titles = {403: "不能使用"}
    heading = "电子证照"
    rule = "licences"

    def way_back(self) -> str | None:
        if self.back_url:
            return self.back_url
        staff = getattr(current_user, "is_staff", False)
        return url_for("licences.staff_list") if staff else url_for("licences.wallet")


# ---- who may see a licence ----

def company_ids(user_id: int) -> list[int]:
    return list(db.session.scalars(select(CompanyMember.company_id).where(
        CompanyMember.user_id == user_id)))


def belongs_to(row: Licence, user_id: int) -> bool:
    """The holder, or a person linked to the holding company."""
    if row.holder_user_id == user_id:
        return True
    return row.company_id is not None and row.company_id in company_ids(user_id)


def for_holder(licence_id: int, user) -> Licence:
    """A licence of the signed-in person or their company; anyone else gets 404."""
    row = db.session.get(Licence, licence_id)
    if row is None or not belongs_to(row, user.id):
        raise LicenceError("没有找到这本证照", 404)
    return row


def wallet(user_id: int) -> list[Licence]:
    """我的证照: the person's licences, then their companies', newest first."""
    owners = [Licence.holder_user_id == user_id]
    companies = company_ids(user_id)
    if companies:
        owners.append(Licence.company_id.in_(companies))
    return list(db.session.scalars(select(Licence).where(or_(*owners)).order_by(
        Licence.company_id.is_not(None), Licence.issued_on.desc(), Licence.id.desc())))


def timeline(row: Licence) -> list[AuditLog]:
    """The licence's changes for the staff's page, newest first."""
    return db.session.scalars(select(AuditLog).where(
        AuditLog.entity == ENTITY, AuditLog.entity_id == row.id
    ).order_by(AuditLog.id.desc())).all()


def uses(row: Licence) -> list[LicenceUse]:
    return list(db.session.scalars(select(LicenceUse).where(
        LicenceUse.licence_id == row.id).order_by(LicenceUse.id.desc()).limit(50)))


def record_use(row: Licence, kind: str, actor_id: int | None, purpose: str = "",
               hall_id: int | None = None, application_id: int | None = None) -> LicenceUse:
    use = LicenceUse(licence_id=row.id, kind=kind, actor_id=actor_id, purpose=purpose[:200],
                     hall_id=hall_id, application_id=application_id)
    db.session.add(use)
    return use


def for_staff(licence_id: int, clerk) -> Licence:
    """A licence staff may open: one their hall issued, or one an application of their hall
    carries; each opening is recorded in 用证记录."""
    row = db.session.get(Licence, licence_id)
    if row is None:
        raise LicenceError("没有找到这本证照", 404)
    staff = scope()
    if not (row.hall_id is not None and staff.reaches(row.hall_id)):
        carried = db.session.scalar(select(Application.id).join(AppMaterial).where(
            AppMaterial.licence_id == row.id, staff.limit(Application.hall_id),
            Application.status != "draft").limit(1))
        if carried is None:
            staff.read(-1)  # refuse as any record of another hall
    # Recorded at the clerk's hall; a city-wide admin's look at the licence's own hall, so that
    # hall's 用证记录 shows it too.
    hall_id = staff.hall_id if staff.hall_id is not None else row.hall_id
    record_use(row, "staff_view", clerk.id, "工作人员查看证照", hall_id=hall_id)
    db.session.commit()
    return row


def staff_list(number: str = "") -> list[Licence]:
    """The licences the hall(s) in scope issued, newest first; by number when one is typed."""
    query = select(Licence).where(scope().limit(Licence.hall_id))
    if number:
        query = query.where(Licence.number.contains(number.strip()[:60]))
    return list(db.session.scalars(query.order_by(Licence.id.desc()).limit(100)))


# ---- the state machine ----

def _refused(row: Licence, current: Status, to: Status) -> LicenceError:
    return LicenceError(f"证照{row.number}当前“{LABELS[current][0]}”,不能“{LABELS[to][0]}”")


LICENCES = machine(Licence, entity=ENTITY, allowed=ALLOWED, sms=SMS, refused=_refused,
                   notify=lambda step, template: _tell_holder(step.record, template))


def _reason(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise LicenceError("请填写原因", 400, field="reason")
    if len(text) > 200:
        raise LicenceError("原因不能超过 200 个字", 400, field="reason")
    return text


@rolls_back
def revoke(row: Licence, clerk, reason: str) -> None:
    """注销 with a reason; a licence that no longer counts for any material."""
    scope().change(row.hall_id)
    reason = _reason(reason)
    move(row, Status.REVOKED, clerk.id, reason, f"{LABELS[Status.REVOKED][0]}:{reason}",
         status_reason=reason)
    db.session.commit()


@rolls_back
def replace(row: Licence, clerk, reason: str) -> Licence:
    """换发: a new number for the same holder and validity; the old one reads 已换发."""
    scope().change(row.hall_id)
    reason = _reason(reason)
    move(row, Status.REPLACED, clerk.id, reason, f"{LABELS[Status.REPLACED][0]}:{reason}",
         status_reason=reason)
    new = Licence(type_code=row.type_code, number=row.number, holder_name=row.holder_name,
                  holder_user_id=row.holder_user_id, company_id=row.company_id,
                  department=row.department, hall_id=row.hall_id,
                  issued_on=local_now().date(), expires_on=row.expires_on,
                  application_id=row.application_id, source="issued")
    new.number = f"{row.number[:50]}-R{secrets.randbelow(9000) + 1000}"
    db.session.add(new)
    db.session.flush()
    row.replaced_by_id = new.id
    audit(ENTITY, new.id, Status.VALID.value, actor_id=clerk.id, note=f"换发自{row.number}")
    _tell_holder(new, "licence_issued")
    db.session.commit()
    return new


def _tell_holder(row: Licence, template: str) -> None:
    phones = {row.holder.phone} if row.holder and row.holder.phone else set()
    if row.company_id:
        phones |= {m.user.phone for m in db.session.scalars(select(CompanyMember).where(
            CompanyMember.company_id == row.company_id)) if m.user.phone}
    for phone in sorted(phones):
        queue_sms(phone, template, {"name": row.type_name},
                  key=f"{template}-{row.id}-{row.status}-{phone}")


# ---- issuing on 办结 ----

def issue_for(application, actor_id: int | None) -> Licence | None:
    """The licence an item issues, made when its matter is 办结 (once per application)."""
    item = application.item
    if item is None or not item.licence_type or item.licence_type not in TYPES:
        return None
    existing = db.session.scalar(select(Licence).where(
        Licence.application_id == application.id, Licence.source == "issued"))
    if existing:
        return existing
    kind = TYPES[item.licence_type]
    today = local_now().date()
    company = _company_of(application) if kind.holder == "company" else None
    row = Licence(type_code=kind.code, number="-", department=item.department,
                  hall_id=application.hall_id, issued_on=today,
                  expires_on=_years_later(today, item.licence_years),
                  holder_user_id=None if company else application.citizen_id,
                  company_id=company.id if company else None,
                  holder_name=company.name if company else (
                      application.applicant_name or application.citizen.display_name),
                  application_id=application.id, source="issued")
    db.session.add(row)
    db.session.flush()
    row.number = f"{kind.prefix}{today:%Y%m%d}{row.id:06d}"
    audit(ENTITY, row.id, Status.VALID.value, actor_id=actor_id,
          note=f"办件{application.number}办结时核发")
    _tell_holder(row, "licence_issued")
    return row


def _years_later(day: date, years: int | None) -> date | None:
    if not years:
        return None
    try:
        return day.replace(year=day.year + years) - timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28) - timedelta(days=1)


def _company_of(application) -> Company | None:
    """The company an application was made for: its answer holding a 统一社会信用代码, linked to
    the applicant so they may use its licences."""
    answers = {a.get("key"): (a.get("value") or "") for a in application.answers or []}
    code = next((v.strip().upper() for v in answers.values()
                 if isinstance(v, str) and valid_credit_code(v.strip())), None)
    if code is None:
        # No code asked for: the one company the applicant acts for, if there is exactly one.
        linked = sources.companies_of(application.citizen_id)
        return linked[0] if len(linked) == 1 else None
    company = db.session.scalar(select(Company).where(Company.credit_code == code))
    if company is None:
        name = answers.get("company_name") or application.applicant_name or code
        company = Company(credit_code=code, name=str(name)[:120])
        db.session.add(company)
        db.session.flush()
    link_person(company, application.citizen_id)
    return company


def link_person(company: Company, user_id: int, role: str = "经办人") -> None:
    if not db.session.scalar(select(CompanyMember.id).where(
            CompanyMember.company_id == company.id, CompanyMember.user_id == user_id)):
        db.session.add(CompanyMember(company_id=company.id, user_id=user_id, role=role))
        db.session.flush()


# ---- 免提交 ----

def holder_of(application) -> sources.Holder:
    return sources.Holder(user_id=application.citizen_id,
                          name=application.applicant_name or "",
                          id_number=application.id_number,
                          companies=sources.companies_of(application.citizen_id))


def lookup(application) -> None:
    """For each draft material that names a licence type and has neither a photo nor a
    licence: carry the applicant's valid licence of that type, or say why a photo is needed."""
    wanted = [m for m in application.materials if m.licence_type and m.licence_id is None
              and not m.current and m.licence_note is None]
    if not wanted:
        return
    holder = holder_of(application)
    holder.deadline = sources.deadline()  # one 2 s for every material on the page
    for material in wanted:
        found, failed = find(holder, material.licence_type)
        valid = [r for r in found if r.valid_now]
        if valid:
            _carry(application, material, valid[0])
        elif failed:
            material.licence_note = LOOKUP_FAILED  # never blocks: the photo, with a note
        else:
            material.licence_note = ""  # looked: none held; the photo as today
    db.session.commit()


def find(holder: sources.Holder, licence_type: str) -> tuple[list[Licence], bool]:
    """Every configured source's licences of this holder and type, and whether one failed."""
    found: list[Licence] = []
    failed = False
    for source in sources.configured():
        try:
            found += [r for r in source.find(holder, licence_type) if r not in found]
        except sources.LookupFailed as exc:
            log.warning("licence lookup (%s) fell back: %s", source.name, exc)
            failed = True
    return found, failed


def offers(application) -> dict[int, list[Licence]]:
    """Per material naming a type: the applicant's licences of that type a card offers."""
    wanted = {m.licence_type for m in application.materials if m.licence_type}
    if not wanted:
        return {}
    source = sources.OwnRecords()
    holder = holder_of(application)
    held = {t: [r for r in source.find(holder, t) if r.valid_now] for t in wanted}
    return {m.id: held[m.licence_type] for m in application.materials if m.licence_type}


def card_offers(application, materials) -> dict[int, list[Licence]]:
    """The offers of the material cards a page shows: looked up only when one of them names a
    type and carries no licence yet (补正 cards offer none)."""
    if application.status == AppStatus.SUPPLEMENT_REQUESTED or not any(
            m.licence_type and not m.licence for m in materials):
        return {}
    return offers(application)


def _carry(application, material, row: Licence) -> None:
    material.licence_id, material.licence_note = row.id, None
    record_use(row, "material", application.citizen_id, f"免提交:{application.title}",
               hall_id=application.hall_id, application_id=application.id)


def refusal(row: Licence | None, material, user_id: int) -> str | None:
    """Why this licence cannot stand in for this material, in Chinese; None when it can."""
    if row is None or not belongs_to(row, user_id):
        return "这本证照不属于您或您关联的企业,不能使用"
    if row.type_code != material.licence_type:
        return f"这项材料需要{name_of(material.licence_type)},您选择的是{row.type_name}"
    status = row.live_status
    return REFUSALS.get(status)


@rolls_back
def attach(application, material_id: int, licence_id: int | None, user_id: int):
    """The citizen offers one of their licences for a material (免提交)."""
    check_editable(application)
    material = material_of(application, material_id)
    if not material.licence_type:
        raise LicenceError("这项材料不能用电子证照代替,请拍照上传", 400, field="licence")
    row = db.session.get(Licence, licence_id) if licence_id else None
    problem = refusal(row, material, user_id)
    if problem:
        raise LicenceError(problem, 409 if row and belongs_to(row, user_id) else 403,
                           field="licence")
    _carry(application, material, row)
    db.session.commit()
    return material


@rolls_back
def detach(application, material_id: int):
    """Use a photo instead of the licence."""
    check_editable(application)
    material = material_of(application, material_id)
    material.licence_id, material.licence_note = None, ""
    db.session.commit()
    return material


def counts(material) -> bool:
    """A material satisfied by its licence: carried, and valid right now."""
    return material.licence is not None and material.licence.valid_now


def seen_in_review(application, clerk) -> None:
    """The clerk's review page shows each carried licence's live status: recorded as a use."""
    for m in application.materials:
        if m.licence is not None:
            record_use(m.licence, "review", clerk.id, f"预审办件{application.number}",
                       hall_id=application.hall_id, application_id=application.id)
    db.session.commit()
