"""Browsing and searching the catalog, and the guide page of an item."""

from flask import abort, render_template, request

from app.catalog import bp
from app.catalog.models import AUDIENCES
from app.catalog.services import (
    TOPICS,
    count_view,
    get_item,
    search_bundles,
    search_items,
    topic_counts,
)
from app.htmx import render


@bp.get("/services")
def index():
    """办事: browse by topic and audience, search by words; live results for htmx."""
    q = request.args.get("q", "").strip()[:40]
    topic = request.args.get("topic", "") if request.args.get("topic") in TOPICS else ""
    audience = request.args.get("audience", "")
    audience = audience if audience in AUDIENCES else ""
    items = search_items(q, topic, audience)
    bundles = search_bundles(q, audience) if not topic else []
    return render("catalog/index.html", "catalog/_results.html", items=items, bundles=bundles,
                  q=q, topic=topic, audience=audience, topics=TOPICS, audiences=AUDIENCES,
                  counts=topic_counts())


@bp.get("/services/<code>")
def guide(code: str):
    """办事指南 of one item."""
    item = get_item(code)
    if item is None:
        abort(404)
    if item.retired_at is None:
        count_view(item)
    return render_template("catalog/guide.html", item=item)


@bp.get("/book")
def bookable():
    """预约·预审: the items that can be booked at a hall or pre-reviewed by photo."""
    items = [i for i in search_items(limit=200) if i.bookable or i.prereview or i.fully_online]
    return render_template("catalog/bookable.html", items=items)
