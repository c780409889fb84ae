"""一件事管理: admins put items together into bundles, and change or retire them.

A bundle belongs to every hall of its items: a hall admin changes only a bundle made of items
their hall handles alone, and may put only such items into one (see admin.py).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.catalog import bp
from app.catalog.admin import OTHER_HALL, SHARED, item_halls, lock_reason
from app.catalog.forms import bundle_form
from app.catalog.models import AUDIENCES, Bundle, ServiceItem
from app.catalog.services import (
    CodeTaken,
    bundle_by_id,
    bundleable_items,
    items_by_ids,
    list_admin_bundles,
    save_bundle,
    set_retired,
)
from app.core.access import ADMINS, Scope, scope, staff_view


def bundle_halls(bundle: Bundle) -> set[int]:
    """A bundle belongs to every hall of its items: one alone makes it that hall's."""
    return {h.id for i in bundle.items for h in i.halls}


def _bundle_lock_reason(bundle: Bundle) -> str | None:
    """Like lock_reason: "其他大厅" when an item is not handled here at all, else "多馆共用"."""
    if lock_reason(bundle_halls(bundle)) is None:
        return None
    mine = all(current_user.hall_id in item_halls(i) for i in bundle.items)
    return SHARED if mine else OTHER_HALL


@bp.get("/admin/catalog/bundles")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_bundles():
    """一件事管理."""
    bundles = list_admin_bundles()
    others = {b.id: why for b in bundles if (why := _bundle_lock_reason(b))}
    return render_template("catalog/admin/bundles.html", bundles=bundles, others=others)


def _bundle(bundle_id: int) -> Bundle:
    """A bundle this admin may change: a hall admin's hall handles every item in it; else 403."""
    bundle = bundle_by_id(bundle_id) or abort(404)
    scope().change(bundle_halls(bundle))
    return bundle


@bp.route("/admin/catalog/bundles/new", methods=["GET", "POST"])
@staff_view(Scope.CITY, roles=ADMINS)
def admin_bundle_new():
    """新增一件事."""
    return _bundle_form(None)


@bp.route("/admin/catalog/bundles/<int:bundle_id>/edit", methods=["GET", "POST"])
@staff_view(Scope.CITY, roles=ADMINS)
def admin_bundle_edit(bundle_id: int):
    """修改一件事."""
    return _bundle_form(_bundle(bundle_id))


def _bundle_form(bundle: Bundle | None):
    items = _bundle_choices()  # a hall admin is offered their hall's own items only
    if request.method == "GET":
        data = ({"code": bundle.code, "name": bundle.name, "summary": bundle.summary,
                 "keywords": bundle.keywords, "audience": bundle.audience,
                 "item_ids": [i.id for i in bundle.items]} if bundle
                else {"audience": "individual", "item_ids": []})
        return render_template("catalog/admin/bundle_form.html", bundle=bundle, data=data,
                               errors={}, items=items, audiences=AUDIENCES)
    data, errors = bundle_form(request.form)
    foreign = _foreign_items(data["item_ids"], items)
    if foreign:
        errors["item_ids"] = foreign
    if not errors:
        try:
            saved = save_bundle(bundle, data, current_user.id)
        except CodeTaken:
            errors["code"] = "这个编码已被其他一件事使用"
        else:
            flash(f"已保存一件事:{saved.name}", "success")
            return redirect(url_for("catalog.admin_bundles"), code=303)
    return render_template("catalog/admin/bundle_form.html", bundle=bundle, data=data,
                           errors=errors, items=items, audiences=AUDIENCES), 400


def _bundle_choices() -> list[ServiceItem]:
    """The active items this admin may put into a bundle: the ones they may change."""
    return [i for i in bundleable_items() if scope().may_change(item_halls(i))]


def _foreign_items(item_ids: list[int], offered: list[ServiceItem]) -> str:
    """Why a hall admin may not bundle the chosen items (only a forged form offers them), or ''."""
    allowed = {i.id for i in offered}
    foreign = [i for i in item_ids if i not in allowed]
    if scope().city_wide or not foreign:
        return ""
    found = items_by_ids(foreign)
    shared = "由几个大厅共用"
    names = [i.name + (shared if current_user.hall_id in item_halls(i) else "不由本大厅办理")
             for i in found]
    return "只能选择本大厅办理的事项" + (f":{'、'.join(names)}" if names else "")


@bp.post("/admin/catalog/bundles/<int:bundle_id>/retire")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_bundle_retire(bundle_id: int):
    """停用 or 恢复 a bundle."""
    bundle = _bundle(bundle_id)
    retire = request.form.get("action") != "restore"
    set_retired(bundle, retire, current_user.id, "bundle")
    flash(f"已停用:{bundle.name}" if retire else f"已恢复:{bundle.name}", "success")
    return redirect(url_for("catalog.admin_bundles"), code=303)
