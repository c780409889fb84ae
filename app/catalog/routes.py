"""Browsing and searching the catalog, guide pages of items and bundles, and their checklists."""

import segno
from flask import abort, current_app, render_template, request, url_for
from markupsafe import Markup

from app.catalog import bp, cache
from app.catalog.checklist_image import FontMissing, render_png
from app.catalog.httpcache import public_page
from app.catalog.models import AUDIENCES
from app.catalog.sections import guide_sections
from app.catalog.services import (
    RECENT_COOKIE,
    browse_topics,
    bundle_items,
    bundles_of,
    cached_bundle,
    cached_item,
    count_view,
    departments,
    merge_materials,
    remember,
    search_bundles,
    search_items,
    topic_counts,
)
from app.core.access import public_view
from app.core.timeutil import utcnow
from app.htmx import is_partial

RECENT_DAYS = 90


@bp.get("/services")
@public_view
def index():
    """办事: browse by topic and audience, search by words; live results for htmx."""
    q = request.args.get("q", "").strip()[:40]
    topics = browse_topics()
    topic = request.args.get("topic", "")
    topic = topic if topic in topics else ""
    audience = request.args.get("audience", "")
    audience = audience if audience in AUDIENCES else ""
    results = cache.fragment(("results", q, topic, audience), lambda: Markup(render_template(
        "catalog/_results.html", q=q, topic=topic, audience=audience, topics=topics,
        audiences=AUDIENCES, counts=topic_counts(), items=search_items(q, topic, audience),
        bundles=search_bundles(q, audience) if not topic else [])))
    if is_partial():
        response = public_page(lambda public_page: results)
    else:
        response = public_page(lambda public_page: render_template(
            "catalog/index.html", results=results, q=q, topic=topic, audience=audience,
            topics=topics, audiences=AUDIENCES, counts=topic_counts(), public_page=public_page))
    response.vary.add("HX-Request")
    return response


@bp.get("/services/<code>")
@public_view
def guide(code: str):
    """办事指南 of one item."""
    item = cached_item(code) or abort(404)
    body = cache.fragment(("guide", code), lambda: Markup(render_template(
        "catalog/_guide_body.html", item=item, bundles=bundles_of(item),
        sections=guide_sections(item))))
    return public_page(lambda public_page: render_template(
        "catalog/guide.html", item=item, body=body, public_page=public_page))


@bp.get("/services/<code>/seen")
@public_view
def guide_seen(code: str):
    """Sent by the guide page once shown (the page itself is shared and sets no cookie): count
    the view for popularity and add the guide to the visitor's recently viewed."""
    item = cached_item(code) or abort(404)
    if item.retired_at is not None:
        return _seen()
    count_view(item)
    return _remember(_seen(), f"i:{item.code}")


@bp.get("/services/<code>/checklist")
@public_view
def item_checklist(code: str):
    """一次性告知单 of one item: printable, with a QR code that opens the guide."""
    return _checklist_page(_item_checklist(code))


@bp.get("/services/<code>/checklist.png")
@public_view
def item_checklist_png(code: str):
    """The item's 一次性告知单 as a picture, to long-press and save inside WeChat."""
    return _checklist_png(_item_checklist(code))


def _item_checklist(code: str) -> dict:
    item = cached_item(code) or abort(404)
    url = url_for("catalog.guide", code=item.code, _external=True)
    return dict(title=item.name, items=[item], materials=merge_materials([item]), guide_url=url,
                retired=item.retired_at is not None, today=utcnow(), departments=None,
                back_url=url_for("catalog.guide", code=item.code),
                png_url=url_for("catalog.item_checklist_png", code=item.code))


def _checklist_page(context: dict):
    """The printable page; `?as=image` shows the picture to save instead (WeChat)."""
    as_image = request.args.get("as") == "image"
    return render_template("catalog/checklist.html", qr=qr_svg(context["guide_url"]),
                           as_image=as_image, **context)


def _checklist_png(context: dict):
    try:
        png = render_png(current_app.config["CJK_FONT"], title=context["title"],
                         items=context["items"], materials=context["materials"],
                         departments=context["departments"], guide_url=context["guide_url"],
                         today=context["today"])
    except FontMissing:
        current_app.logger.error("checklist image: CJK font missing at %s",
                                 current_app.config["CJK_FONT"])
        abort(503)
    response = current_app.response_class(png, mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/bundles/<code>")
@public_view
def bundle(code: str):
    """一件事 guide: its items, the departments taking part and one merged material list."""
    row = cached_bundle(code) or abort(404)
    body = cache.fragment(("bundle", code), lambda: Markup(render_template(
        "catalog/_bundle_body.html", **_bundle_context(row))))
    return public_page(lambda public_page: render_template(
        "catalog/bundle.html", bundle=row, body=body, public_page=public_page))


@bp.get("/bundles/<code>/seen")
@public_view
def bundle_seen(code: str):
    """Sent by the bundle page once shown: add it to the visitor's recently viewed."""
    row = cached_bundle(code) or abort(404)
    return _remember(_seen(), f"b:{row.code}") if row.retired_at is None else _seen()


def _bundle_context(row) -> dict:
    items = bundle_items(row)
    return {"bundle": row, "items": items, "materials": merge_materials(items),
            "departments": departments(items),
            "promised": max((i.promised_days for i in items), default=0)}


@bp.get("/bundles/<code>/checklist")
@public_view
def bundle_checklist(code: str):
    """一次性告知单 of a bundle: every item's materials merged into one list."""
    return _checklist_page(_bundle_checklist(code))


@bp.get("/bundles/<code>/checklist.png")
@public_view
def bundle_checklist_png(code: str):
    """The bundle's 一次性告知单 as a picture, to long-press and save inside WeChat."""
    return _checklist_png(_bundle_checklist(code))


def _bundle_checklist(code: str) -> dict:
    row = cached_bundle(code) or abort(404)
    items = bundle_items(row)
    url = url_for("catalog.bundle", code=row.code, _external=True)
    return dict(title=row.name, items=items, materials=merge_materials(items), guide_url=url,
                retired=row.retired_at is not None, today=utcnow(),
                departments=departments(items), back_url=url_for("catalog.bundle", code=row.code),
                png_url=url_for("catalog.bundle_checklist_png", code=row.code))


@bp.get("/book")
@public_view
def bookable():
    """预约·预审: the items that can be booked at a hall or pre-reviewed by photo."""
    items = [i for i in search_items(limit=200) if i.bookable or i.prereview or i.fully_online]
    return render_template("catalog/bookable.html", items=items)


def qr_svg(url: str) -> Markup:
    """A QR code of `url` as inline SVG: no image file, nothing for the CSP to block."""
    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=4, border=2, title="扫码打开办事指南",
                                  svgclass="qr", lineclass=None, omitsize=False))


def _seen():
    response = current_app.response_class(status=204)
    response.cache_control.no_store = True  # it counts a view: every one must reach the app
    return response


def _remember(response, key: str):
    """Keep the last few guides viewed in a cookie of codes (no personal data)."""
    value = remember(request.cookies.get(RECENT_COOKIE), key)
    response.set_cookie(RECENT_COOKIE, value, max_age=RECENT_DAYS * 86400, samesite="Lax",
                        httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response

