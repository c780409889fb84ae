"""事项管理: admins create, edit and retire items and their materials. Pages work on a phone.
Bundles (一件事) are in admin_bundles.py, moving the catalog in and out as YAML or CSV in
admin_transfer.py: all three are routes of the catalog blueprint.

The catalog is city-wide (Scope.CITY, app/core/access.py): every admin sees all of it. A hall
admin changes only what belongs to their hall alone: the items only their hall handles and the
bundles made of such items. Another hall's item, an item several halls share and a bundle with
either are changed by a city-wide admin; for a hall admin they are read-only and 403 on change.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.catalog import bp
from app.catalog import fields as form_fields
from app.catalog.forms import item_form, material_form
from app.catalog.halls import list_halls
from app.catalog.models import AUDIENCES, Material, ServiceItem
from app.catalog.services import (
    ITEM_COLUMNS,
    CodeTaken,
    all_topics,
    hall_places,
    item_by_id,
    list_admin_items,
    material_by_id,
    move_material,
    save_example,
    save_item,
    save_material,
    set_retired,
)
from app.core.access import ADMINS, Scope, scope, staff_view
from app.reading import examples

OTHER_HALL, SHARED = "其他大厅", "多馆共用"


def own_hall_id() -> int | None:
    """The hall this admin runs, or None for a city-wide admin."""
    return None if scope().city_wide else current_user.hall_id


def item_halls(item: ServiceItem) -> list[int]:
    return [h.id for h in item.halls]


def lock_reason(halls) -> str | None:
    """Why this admin may only look at a record of these halls (a badge), or None."""
    if scope().may_change(halls):
        return None
    return SHARED if current_user.hall_id in halls else OTHER_HALL


def _item(item_id: int) -> ServiceItem:
    return item_by_id(item_id) or abort(404)


def _changeable(item: ServiceItem) -> ServiceItem:
    """The item, when this admin may change it; another hall's or a shared one is 403."""
    scope().change(item_halls(item))
    return item


def _form_context(data: dict, **ctx) -> dict:
    own = own_hall_id()
    halls = list_halls()
    if own is not None:  # their own hall only (shown, locked)
        halls = [h for h in halls if h.id in data.get("hall_ids", [])]
    return {"topics": all_topics(), "audiences": AUDIENCES, "halls": halls, "hall_scope": own,
            "data": data, **ctx}


@bp.get("/admin/catalog")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_items():
    """事项管理: every item, searchable, with retired ones on request."""
    q = request.args.get("q", "").strip()[:40]
    show = request.args.get("show", "active")
    items = list_admin_items(q, show)
    others = {i.id: why for i in items if (why := lock_reason(item_halls(i)))}
    return render_template("catalog/admin/items.html", items=items, others=others, q=q,
                           show=show)


@bp.route("/admin/catalog/items/new", methods=["GET", "POST"])
@staff_view(Scope.CITY, roles=ADMINS)
def admin_item_new():
    """新增事项."""
    return _item_form(None)


@bp.route("/admin/catalog/items/<int:item_id>/edit", methods=["GET", "POST"])
@staff_view(Scope.CITY, roles=ADMINS)
def admin_item_edit(item_id: int):
    """修改事项."""
    return _item_form(_changeable(_item(item_id)))


def _item_form(item: ServiceItem | None):
    own = own_hall_id()
    if request.method == "GET":
        data = _item_values(item) if item else {"audience": "individual", "legal_days": 20,
                                                 "promised_days": 5, "visits": 1, "fee": "不收费",
                                                 "bookable": True, "prereview": True,
                                                 "hall_ids": [] if own is None else [own]}
        return render_template("catalog/admin/item_form.html", **_form_context(
            data, item=item, errors={}))
    data, errors = item_form(request.form, all_topics())
    if own is not None:  # a hall admin never adds other halls
        data["hall_ids"], data["window_ids"] = hall_places(item, own, data["window_ids"])
        errors.pop("hall_ids", None)
    if not errors:
        try:
            saved = save_item(item, data, current_user.id)
        except CodeTaken:
            errors["code"] = "这个事项编码已被其他事项使用"
        else:
            flash("已保存事项。" if item else "已新增事项,请继续添加材料。", "success")
            return redirect(url_for("catalog.admin_item", item_id=saved.id), code=303)
    data["steps"] = "\n".join(data["steps"])
    return render_template("catalog/admin/item_form.html", **_form_context(
        data, item=item, errors=errors)), 400


def _item_values(item: ServiceItem) -> dict:
    data = {key: getattr(item, key) for key in ITEM_COLUMNS}
    data["steps"] = "\n".join(item.steps or [])
    data["hall_ids"] = [h.id for h in item.halls]
    data["window_ids"] = [w.id for w in item.windows]
    return data


@bp.get("/admin/catalog/items/<int:item_id>")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_item(item_id: int):
    """One item: its details, its materials, and a form to add a material (read-only for a hall
    admin when their hall does not handle it)."""
    return _item_page(_item(item_id), {"original": "1", "copies": 1, "photo_ok": True}, {})


def _item_page(item: ServiceItem, material: dict, errors: dict, status: int = 200,
               fields_text: str | None = None, fields_errors: list | None = None):
    if fields_text is None:
        fields_text = form_fields.to_lines(item.form_fields)
    return render_template("catalog/admin/item.html", item=item, data=material,
                           locked=lock_reason(item_halls(item)),
                           errors=errors, fields_text=fields_text,
                           fields_errors=fields_errors or [],
                           line_help=form_fields.LINE_HELP), status


@bp.post("/admin/catalog/items/<int:item_id>/fields")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_item_fields(item_id: int):
    """申请表字段: the item's own questions, one a line; a bad line is named, nothing saved."""
    item = _changeable(_item(item_id))
    text = (request.form.get("fields") or "")[:20000]
    fields, errors = form_fields.parse_lines(text, item.form_fields)
    if errors:
        return _item_page(item, {"original": "1", "copies": 1, "photo_ok": True}, {}, 400,
                          fields_text=text, fields_errors=errors)
    form_fields.save(item, fields, current_user.id)
    flash(f"已保存申请表字段,共 {len(fields)} 个。", "success")
    return redirect(url_for("catalog.admin_item", item_id=item.id) + "#fields", code=303)


@bp.post("/admin/catalog/items/<int:item_id>/retire")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_item_retire(item_id: int):
    """停用 or 恢复 an item; applications that used it keep it."""
    item = _changeable(_item(item_id))
    retire = request.form.get("action") != "restore"
    set_retired(item, retire, current_user.id, "service_item")
    flash("已停用该事项,群众将搜不到它;已有办件不受影响。" if retire else "已恢复该事项。",
          "success")
    return redirect(url_for("catalog.admin_item", item_id=item.id), code=303)


@bp.post("/admin/catalog/items/<int:item_id>/materials")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_material_add(item_id: int):
    """Add a material at the end of the item's list."""
    item = _changeable(_item(item_id))
    data, errors = material_form(request.form)
    example, remove = _example(errors)
    if errors:
        return _item_page(item, _material_echo(data), errors, 400)
    material = save_material(item, None, data, current_user.id)
    save_example(material, example, remove)
    flash(f"已添加材料:{data['name']}", "success")
    return redirect(url_for("catalog.admin_item", item_id=item.id) + "#materials", code=303)


def _example(errors: dict) -> tuple[bytes | None, bool]:
    """示例图 from the form: a new photo (checked like any upload) and whether to remove it."""
    upload = request.files.get("example")
    data = upload.read(examples.MAX_BYTES + 1) if upload and upload.filename else None
    if data:
        try:
            examples.check(data)
        except examples.ExampleRejected as exc:
            errors["example"] = f"{exc},请重新选择图片"
    return data, request.form.get("example_remove") == "1"


def _material_echo(data: dict) -> dict:
    """What was typed, in the shape the form template reads."""
    original = data["original"]
    return {**data, "original": {True: "1", False: "0"}.get(original, original)}


def _material(material_id: int) -> Material:
    """A material this admin may change (every material route changes it)."""
    material = material_by_id(material_id) or abort(404)
    _changeable(material.item)
    return material


@bp.route("/admin/catalog/materials/<int:material_id>/edit", methods=["GET", "POST"])
@staff_view(Scope.CITY, roles=ADMINS)
def admin_material_edit(material_id: int):
    """修改材料."""
    material = _material(material_id)
    if request.method == "GET":
        data = {"name": material.name, "original": "1" if material.original else "0",
                "copies": material.copies, "notes": material.notes,
                "photo_ok": material.photo_ok, "may_be_missing": material.may_be_missing,
                "document_kind": material.document_kind, "licence_type": material.licence_type}
        return render_template("catalog/admin/material_form.html", material=material,
                               data=data, errors={})
    data, errors = material_form(request.form)
    example, remove = _example(errors)
    if errors:
        return render_template("catalog/admin/material_form.html", material=material,
                               data=_material_echo(data), errors=errors), 400
    save_material(material.item, material, data, current_user.id)
    save_example(material, example, remove)
    flash("已保存材料。", "success")
    return redirect(url_for("catalog.admin_item", item_id=material.item_id) + "#materials",
                    code=303)


@bp.post("/admin/catalog/materials/<int:material_id>/retire")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_material_retire(material_id: int):
    """停用 or 恢复 a material; it stays for applications that used it."""
    material = _material(material_id)
    retire = request.form.get("action") != "restore"
    set_retired(material, retire, current_user.id, "material")
    flash(f"已停用材料:{material.name}" if retire else f"已恢复材料:{material.name}", "success")
    return redirect(url_for("catalog.admin_item", item_id=material.item_id) + "#materials",
                    code=303)


@bp.post("/admin/catalog/materials/<int:material_id>/move")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_material_move(material_id: int):
    """Move a material up or down the list."""
    material = _material(material_id)
    move_material(material, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("catalog.admin_item", item_id=material.item_id) + "#materials",
                    code=303)
