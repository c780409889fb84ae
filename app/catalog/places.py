"""大厅与窗口: a city-wide admin adds and edits halls; a hall's admin edits the hall's windows
(number, name, the items each serves, open or closed today). Pages work on a phone; the forms
are in forms.py, finding and saving halls and windows in halls.py.

Halls are the city's (Scope.CITY, city-wide admins only change them); windows are a hall's
(Scope.HALL: that hall's admin, or a city-wide admin, changes them).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.catalog import bp
from app.catalog.forms import hall_form, window_form
from app.catalog.halls import (
    hall_by_id,
    hall_items,
    list_halls,
    save_hall,
    save_window,
    set_open_today,
    window_by_id,
)
from app.catalog.models import Hall, Window
from app.core.access import ADMINS, Scope, StaffRole, scope, staff_view
from app.core.timeutil import local_today
from app.htmx import is_partial, render

CITY_ADMIN = {StaffRole.CITY_ADMIN}


def _hall(hall_id: int) -> Hall:
    return hall_by_id(hall_id) or abort(404)


def _window(window_id: int) -> Window:
    return window_by_id(window_id) or abort(404)


@bp.get("/admin/halls")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_halls():
    """大厅与窗口: every hall for a city-wide admin (who adds and edits them), one's own else."""
    own = None if scope().city_wide else current_user.hall_id
    return render_template("catalog/admin/halls.html", halls=list_halls(own))


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
