"""导入导出: admins download the catalog, or upload a YAML or CSV file that replaces matching rows
(app/catalog/io.py)."""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app.catalog import bp, io
from app.catalog.admin import own_hall_id
from app.catalog.filecheck import CatalogError
from app.core.access import ADMINS, Scope, staff_view

MAX_IMPORT_BYTES = 2 * 1024 * 1024


@bp.get("/admin/catalog/transfer")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_transfer():
    """导入导出: download the catalog, or upload a file that replaces matching rows."""
    return _transfer_page([])


def _transfer_page(errors: list[str], filename: str = "", status: int = 200):
    return render_template("catalog/admin/transfer.html", errors=errors, filename=filename,
                           own_hall=current_user.hall), status


@bp.get("/admin/catalog/export.<fmt>")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_export(fmt: str):
    """The whole active catalog as a YAML or CSV file."""
    if fmt not in ("yaml", "csv"):
        abort(404)
    body = io.export_catalog() if fmt == "yaml" else io.export_csv()
    response = make_response(body)
    response.mimetype = "text/csv" if fmt == "csv" else "application/x-yaml"
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f"attachment; filename=catalog.{fmt}"
    return response


@bp.post("/admin/catalog/import")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_import():
    """Import an uploaded YAML or CSV file; a bad file changes nothing and lists every bad row.

    A hall admin's file may change only what they could change by hand (see
    importscope.scope_errors)."""
    upload = request.files.get("file")
    if not upload or not upload.filename:
        return _transfer_page(["请选择要导入的文件"], status=400)
    raw = upload.read(MAX_IMPORT_BYTES + 1)
    errors: list[str] = []
    if len(raw) > MAX_IMPORT_BYTES:
        errors = ["文件不能超过 2MB"]
    else:
        try:
            report = io.import_file(raw, upload.filename, hall_id=own_hall_id())
        except CatalogError as err:
            errors = err.errors
    if errors:
        return _transfer_page(errors, upload.filename, 400)
    flash(f"导入完成:新增 {report.created} 条,更新 {report.updated} 条。", "success")
    return redirect(url_for("catalog.admin_transfer"), code=303)
