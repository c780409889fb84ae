"""Every view declares who it serves (app/core/access.py); a route added without a declaration,
or a staff view without a scope, fails here."""

import pytest
from flask import Blueprint

from app.core.access import (
    ADMINS,
    STAFF,
    Scope,
    declaration,
    own_view,
    public_view,
    staff_view,
    undeclared,
)
from app.factory import create_app


def test_every_route_declares_who_it_serves(app):
    assert undeclared(app) == []


def test_every_staff_view_has_a_scope_and_roles(app):
    staff = {rule.rule: declaration(app.view_functions[rule.endpoint])
             for rule in app.url_map.iter_rules() if rule.endpoint != "static"
             and declaration(app.view_functions[rule.endpoint]).audience == "staff"}
    assert len(staff) > 40
    for path, decl in staff.items():
        assert decl.scope in Scope and decl.roles and decl.roles <= STAFF, path
    # the pages that change city-wide records are for admins only
    assert staff["/admin/booking/days"].roles == ADMINS
    assert staff["/admin/catalog/items/<int:item_id>/edit"].scope is Scope.CITY


@pytest.fixture
def fresh_app():
    """An app of its own, so the routes added here never reach the other tests."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "SECRET_KEY": "x"})


def test_a_route_added_without_a_declaration_is_caught(fresh_app):
    extra = Blueprint("extra", __name__)

    @extra.get("/staff/new-report")
    def new_report():
        return "every hall's data"

    @extra.get("/staff/declared")
    @staff_view(Scope.HALL)
    def declared():
        return "ok"

    @extra.get("/open")
    @public_view
    def open_page():
        return "ok"

    @extra.get("/mine")
    @own_view()
    def mine():
        return "ok"

    fresh_app.register_blueprint(extra)
    assert undeclared(fresh_app) == ["GET /staff/new-report extra.new_report"]


def test_unknown_roles_and_link_actions_are_refused_when_declared():
    with pytest.raises(ValueError):
        staff_view(Scope.HALL, roles={"superuser"})
    with pytest.raises(ValueError):
        own_view("everything")
