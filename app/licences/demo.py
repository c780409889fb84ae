"""Demo licences: the demo citizen (张三) holds a 结婚证 and, through his company, a 营业执照;
食品经营许可 (SC-003) and three other demo items accept the 营业执照 in place of a photo."""

from datetime import date

from sqlalchemy import select

from app.auth.demo import DEMO_CITIZEN
from app.auth.models import User
from app.catalog.models import Hall
from app.extensions import db
from app.licences.models import Company, Licence
from app.licences.services import link_person

DEMO_COMPANY = ("91152201MA0N4D3X1B", "乌兰浩特市兴安味道餐饮有限公司")


def load_demo() -> None:
    """Once: a database that has licences is left alone."""
    if db.session.scalar(select(Licence.id).limit(1)):
        return
    citizen = db.session.scalar(select(User).where(User.phone == DEMO_CITIZEN))
    hall = db.session.scalar(select(Hall).order_by(Hall.id).limit(1))
    if citizen is None or hall is None:
        return
    company = Company(credit_code=DEMO_COMPANY[0], name=DEMO_COMPANY[1])
    db.session.add(company)
    db.session.flush()
    link_person(company, citizen.id, role="法定代表人")
    db.session.add_all([
        Licence(type_code="business_licence", number="91152201MA0N4D3X1B", source="import",
                holder_name=company.name, company_id=company.id, department="市场监督管理局",
                hall_id=hall.id, issued_on=date(2024, 3, 18), expires_on=None),
        Licence(type_code="marriage_cert", number="J152201-2019-001288", source="import",
                holder_name=citizen.name or "张三", holder_user_id=citizen.id,
                department="乌兰浩特市民政局", hall_id=hall.id, issued_on=date(2019, 5, 20),
                expires_on=None),
    ])
    db.session.flush()
