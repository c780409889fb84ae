"""大厅与窗口: a city-wide admin adds and edits halls; a hall's admin edits the hall's windows
(number, name, the items each serves, open or closed today). Pages work on a phone.

Halls are the city's (Scope.CITY, city-wide admins only change them); windows are a hall's
(Scope.HALL: that hall's admin, or a city-wide admin, changes them).
"""

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.catalog import bp
from app.catalog.models import Hall, ServiceItem, Window, item_hall
from app.core.access import ADMINS, Scope, StaffRole, scope, staff_view
from app.core.ids import parse_ids
from app.core.models import audit
from app.core.timeutil import local_today
from app.extensions import db
from app.htmx import is_partial, render

CITY_ADMIN = {StaffRole.CITY_ADMIN}
PHONE_RE = re.compile(r"^[0-9+()\- ]{5,20}(转[0-9]{1,6})?$")
WINDOW_CODE_RE = re.compile(r"^[A-Za-z0-9-]{1,10}$")
GROUP_RE = re.compile(r"^[A-Za-z0-9]{1,4}$")
URL_RE = re.compile(r"^https?://[^\s<>\"']+$")


# ---- forms: what was typed, cleaned, and a Chinese message per bad field ----

def _text(form, name: str, label: str, errors: dict, max_len: int, required=True) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        errors[name] = f"请输入{label}"
    elif len(value) > max_len:
        errors[name] = f"{label}不能超过 {max_len} 个字"
    return value


def hall_form(form, hall: Hall | None) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    data = {"name": _text(form, "name", "大厅名称", errors, 80),
            "short_name": _text(form, "short_name", "简称", errors, 40),
            "address": _text(form, "address", "地址", errors, 200),
            "hours": _text(form, "hours", "办公时间", errors, 200),
            "phone": _text(form, "phone", "咨询电话", errors, 40),
            "map_url": _text(form, "map_url", "地图链接", errors, 300, required=False),
            "area": _text(form, "area", "服务区域", errors, 80, required=False)}
    if "phone" not in errors and not PHONE_RE.match(data["phone"]):
        errors["phone"] = "请输入正确的咨询电话,如 0482-8266666"
    if data["map_url"] and "map_url" not in errors and not URL_RE.match(data["map_url"]):
        errors["map_url"] = "地图链接应以 https:// 开头,请从地图应用里复制完整链接"
    if "name" not in errors:
        clash = db.session.scalar(select(Hall.id).where(Hall.name == data["name"]))
        if clash is not None and (hall is None or clash != hall.id):
            errors["name"] = "已有同名的大厅"
    return data, _ordered(errors, data)


def window_form(form, hall: Hall, window: Window | None) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    data = {"code": _text(form, "code", "窗口编号", errors, 10).upper(),
            "name": _text(form, "name", "窗口名称", errors, 80),
            "group": _text(form, "group", "叫号分组", errors, 4).upper(),
            "item_ids": parse_ids(form.getlist("item_ids"))}
    if "code" not in errors and not WINDOW_CODE_RE.match(data["code"]):
        errors["code"] = "窗口编号只能用字母、数字和短横线,如 A01"
    elif "code" not in errors:
        clash = db.session.scalar(select(Window.id).where(Window.hall_id == hall.id,
                                                          Window.code == data["code"]))
        if clash is not None and (window is None or clash != window.id):
            errors["code"] = f"本大厅已有 {data['code']} 号窗口"
    if "group" not in errors and not GROUP_RE.match(data["group"]):
        errors["group"] = "叫号分组只能用字母或数字,如 A"
    offered = {i.id for i in hall_items(hall)}
    if set(data["item_ids"]) - offered:
        errors["item_ids"] = "只能选择本大厅办理的事项"
    return data, _ordered(errors, data)


def _ordered(errors: dict, data: dict) -> dict:
    return {key: errors[key] for key in data if key in errors}


# ---- services ----

def hall_items(hall: Hall) -> list[ServiceItem]:
    """The items this hall handles, which its windows may serve."""
    return list(db.session.scalars(select(ServiceItem).join(
        item_hall, item_hall.c.item_id == ServiceItem.id).where(
        item_hall.c.hall_id == hall.id, ServiceItem.retired_at.is_(None)).order_by(
        ServiceItem.code)))


def save_hall(hall: Hall | None, data: dict, actor_id: int) -> Hall:
    if hall is None:
        hall = Hall()
        db.session.add(hall)
    for key, value in data.items():
        setattr(hall, key, value)
    db.session.flush()
    audit("hall", hall.id, "saved", actor_id=actor_id, note=hall.name)
    db.session.commit()
    return hall


def save_window(hall: Hall, window: Window | None, data: dict, actor_id: int) -> Window:
    if window is None:
        window = Window(hall=hall)
        db.session.add(window)
    window.code, window.name, window.group = data["code"], data["name"], data["group"]
    chosen = set(data["item_ids"])
    offered = hall_items(hall)
    window.items = [i for i in offered if i.id in chosen] + [
        i for i in window.items if i not in offered]  # items no longer the hall's stay
    db.session.flush()
    audit("window", window.id, "saved", actor_id=actor_id, note=f"{window.code} {window.name}")
    db.session.commit()
    return window


def set_open_today(window: Window, open_: bool, actor_id: int) -> None:
    """Close a window for today (it opens again tomorrow by itself), or open it again."""
    window.closed_on = None if open_ else local_today()
    audit("window", window.id, "opened" if open_ else "closed_today", actor_id=actor_id,
          note=f"{window.code} {window.name}")
    db.session.commit()


# ---- pages ----

def _hall(hall_id: int) -> Hall:
    return db.session.get(Hall, hall_id) or abort(404)


def _window(window_id: int) -> Window:
    return db.session.get(Window, window_id) or abort(404)


@bp.get("/admin/halls")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_halls():
    """大厅与窗口: every hall for a city-wide admin (who adds and edits them), one's own else."""
    query = select(Hall).order_by(Hall.id)
    if not scope().city_wide:
        query = query.where(Hall.id == current_user.hall_id)
    return render_template("catalog/admin/halls.html", halls=db.session.scalars(query).all())


@bp.route("/admin/halls/new", methods=["GET", "POST"])
@staff_view(Scope.CITY, roles=CITY_ADMIN)
def admin_hall_new():
    """新增大厅."""
    return _hall_form(None)


@bp.route("/admin/halls/<int:hall_id>/edit", methods=["GET", "POST"])
@staff_view(Scope.CITY, roles=CITY_ADMIN)
def admin_hall_edit(hall_id: int):
    """修改大厅."""
    return _hall_form(_hall(hall_id))


def _hall_form(hall: Hall | None):
    if request.method == "GET":
        data = {key: getattr(hall, key) for key in ("name", "short_name", "address", "hours",
                                                    "phone", "map_url", "area")} if hall else {}
        return render_template("catalog/admin/hall_form.html", hall=hall, data=data, errors={})
    data, errors = hall_form(request.form, hall)
    if errors:
        return render_template("catalog/admin/hall_form.html", hall=hall, data=data,
                               errors=errors), 400
    saved = save_hall(hall, data, current_user.id)
    flash("已保存大厅信息。" if hall else "已新增大厅,请继续添加窗口。", "success")
    return redirect(url_for("catalog.admin_windows", hall_id=saved.id), code=303)


@bp.get("/admin/halls/<int:hall_id>/windows")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_windows(hall_id: int):
    """A hall's windows: what each serves, and open or closed today."""
    hall = _hall(hall_id)
    scope().read(hall.id)
    return render_template("catalog/admin/windows.html", hall=hall, today=local_today())


@bp.route("/admin/halls/<int:hall_id>/windows/new", methods=["GET", "POST"])
@staff_view(Scope.HALL, roles=ADMINS)
def admin_window_new(hall_id: int):
    """新增窗口."""
    hall = _hall(hall_id)
    scope().change(hall.id)
    return _window_form(hall, None)


@bp.route("/admin/windows/<int:window_id>/edit", methods=["GET", "POST"])
@staff_view(Scope.HALL, roles=ADMINS)
def admin_window_edit(window_id: int):
    """修改窗口."""
    window = _window(window_id)
    scope().change(window.hall_id)
    return _window_form(window.hall, window)


def _window_form(hall: Hall, window: Window | None):
    items = hall_items(hall)
    if request.method == "GET":
        data = {"code": window.code, "name": window.name, "group": window.group,
                "item_ids": [i.id for i in window.items]} if window else {"group": "A",
                                                                            "item_ids": []}
        return render_template("catalog/admin/window_form.html", hall=hall, window=window,
                               items=items, data=data, errors={})
    data, errors = window_form(request.form, hall, window)
    if errors:
        return render_template("catalog/admin/window_form.html", hall=hall, window=window,
                               items=items, data=data, errors=errors), 400
    save_window(hall, window, data, current_user.id)
    flash(f"已保存 {data['code']} 号窗口。", "success")
    return redirect(url_for("catalog.admin_windows", hall_id=hall.id), code=303)


@bp.post("/admin/windows/<int:window_id>/today")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_window_today(window_id: int):
    """今日暂停 / 恢复服务: one tap; htmx swaps the window's row."""
    window = _window(window_id)
    scope().change(window.hall_id)
    choice = request.form.get("open")
    if choice not in ("0", "1"):
        return render("catalog/admin/windows.html", "catalog/admin/_window.html", 400,
                      hall=window.hall, window=window, today=local_today(),
                      error="请选择今日开放或暂停服务")
    set_open_today(window, choice == "1", current_user.id)
    if is_partial():
        return render("catalog/admin/windows.html", "catalog/admin/_window.html",
                      hall=window.hall, window=window, today=local_today())
    return redirect(url_for("catalog.admin_windows", hall_id=window.hall_id), code=303)
