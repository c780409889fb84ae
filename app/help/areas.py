"""上门服务范围: the 街道/乡镇 a hall's helpers visit, and telling an address outside them."""

from sqlalchemy import select

from app.catalog.models import Hall
from app.core.models import audit
from app.core.refusals import rolls_back
from app.extensions import db
from app.help.models import HelpArea
from app.help.rules import HelpError


def areas(hall_id: int) -> list[HelpArea]:
    return list(db.session.scalars(select(HelpArea).where(HelpArea.hall_id == hall_id)
                                   .order_by(HelpArea.position, HelpArea.id)))


def outside_names(hall: Hall) -> list[str]:
    """Places that belong to other halls: an address naming one of them is outside this area."""
    own = {a.name for a in areas(hall.id)} | {hall.area}
    other_halls = db.session.scalars(select(Hall).where(Hall.id != hall.id)).all()
    names = {h.area for h in other_halls if h.area}
    names |= set(db.session.scalars(select(HelpArea.name).where(HelpArea.hall_id != hall.id)))
    return sorted(n for n in names - own if n)


def outside_message(hall: Hall) -> str:
    names = "、".join(a.name for a in areas(hall.id)) or hall.area or "本辖区"
    return (f"您的地址不在{hall.name}上门服务范围内(服务范围:{names})。"
            f"可以改选“电话回访”,或联系您所在地的政务服务中心。")


@rolls_back
def add_area(hall: Hall, name: str, actor_id: int) -> HelpArea:
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise HelpError("请输入街道或乡镇名称(40字以内)", 400, field="name")
    if any(a.name == name for a in areas(hall.id)):
        raise HelpError(f"“{name}”已在服务范围内", 409, field="name")
    row = HelpArea(hall_id=hall.id, name=name, position=len(areas(hall.id)))
    db.session.add(row)
    db.session.flush()
    audit("help_area", row.id, "added", actor_id=actor_id, note=f"{hall.name} {name}")
    db.session.commit()
    return row


@rolls_back
def remove_area(hall: Hall, area_id: int, actor_id: int) -> None:
    row = db.session.get(HelpArea, area_id)
    if row is None or row.hall_id != hall.id:
        raise HelpError("没有找到这个服务地区", 404)
    audit("help_area", row.id, "removed", actor_id=actor_id, note=f"{hall.name} {row.name}")
    db.session.delete(row)
    db.session.commit()
