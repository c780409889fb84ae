"""Demo home-visit areas (the 街道 and 乡镇 each demo hall serves) and one waiting request."""

from sqlalchemy import select

from app.auth.models import Role, User
from app.catalog.models import Hall, ServiceItem
from app.core.models import audit
from app.core.timeutil import local_now
from app.extensions import db
from app.help.models import HelpArea, HelpRequest

AREAS = {
    "乌兰浩特市政务服务中心": ["和平街道", "新桥街道", "兴安街道", "都林街道", "五一街道",
                       "胜利街道", "城郊街道", "爱国街道", "乌兰哈达镇", "葛根庙镇",
                       "义勒力特镇"],
    "科尔沁右翼前旗政务服务中心": ["科尔沁镇", "索伦镇", "察尔森镇", "归流河镇", "居力很镇",
                          "大石寨镇", "德伯斯镇", "巴日嘎斯台乡"],
}
DEMO_ASKER = "13900139000"


def load_demo() -> None:
    """Add the areas once, and a phone call-back request waiting for a helper."""
    if db.session.scalar(select(HelpArea.id).limit(1)):
        return
    for hall_name, names in AREAS.items():
        hall = db.session.scalar(select(Hall).where(Hall.name == hall_name))
        if hall is None:
            continue
        db.session.add_all(HelpArea(hall_id=hall.id, name=name, position=n)
                           for n, name in enumerate(names))
    hall = db.session.scalar(select(Hall).where(Hall.name == "乌兰浩特市政务服务中心"))
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "HJ-002"))
    if hall is None or item is None:
        return
    asker = db.session.scalar(select(User).where(User.phone == DEMO_ASKER)) or User(
        phone=DEMO_ASKER, role=Role.CITIZEN, name="李桂兰")
    db.session.add(asker)
    db.session.flush()
    row = HelpRequest(citizen=asker, hall_id=hall.id, item_id=item.id, mode="phone",
                      contact_name="李桂兰", contact_phone=DEMO_ASKER,
                      details="想把户口迁到女儿家,不清楚要带什么,请打电话告诉我。")
    db.session.add(row)
    db.session.flush()
    row.number = f"BB{local_now():%y%m%d}{row.id:04d}"
    audit("help_request", row.id, "submitted", actor_id=asker.id,
          public_note="已提交帮办申请(电话回访)")
    db.session.flush()
