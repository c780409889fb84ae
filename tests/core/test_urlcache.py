"""url_for remembers the URLs it built (app/core/urlcache.py): always the URL Flask would build."""

import pytest
from flask import Flask, url_for
from werkzeug.routing import BuildError

CALLS = [
    ("core.home", {}),
    ("catalog.guide", {"code": "SC-003"}),
    ("catalog.index", {"q": "饭店", "topic": "户籍"}),
    ("catalog.index", {"page": 1}),
    ("catalog.index", {"page": True}),
    ("catalog.index", {"audience": None}),
    ("static", {"filename": "css/app.css", "v": "abc"}),
    ("catalog.guide", {"code": "SC-003", "_external": True}),
    ("catalog.guide", {"code": "SC-003", "_anchor": "materials"}),
    ("catalog.index", {"topic": ["户籍", "社保"]}),  # a list: repeated query arguments
]


def _flask_url(app, endpoint, values):
    return Flask.url_for(app, endpoint, **values)


@pytest.mark.parametrize("base_url", ["http://localhost/", "https://gov.example.cn/",
                                      "http://localhost/palm/"])
def test_every_url_is_the_one_flask_builds_for_that_host_and_root(app, base_url):
    for _ in range(2):  # the second round comes from the cache
        with app.test_request_context("/", base_url=base_url):
            for endpoint, values in CALLS:
                assert url_for(endpoint, **values) == _flask_url(app, endpoint, dict(values))


def test_hosts_and_roots_do_not_share_urls(app):
    with app.test_request_context("/", base_url="http://localhost/palm/"):
        assert url_for("core.home") == "/palm/"
        assert url_for("core.home", _external=True) == "http://localhost/palm/"
    with app.test_request_context("/", base_url="https://gov.example.cn/"):
        assert url_for("core.home") == "/"
        assert url_for("core.home", _external=True) == "https://gov.example.cn/"


def test_a_value_of_another_type_is_another_url(app):
    with app.test_request_context("/"):
        assert url_for("catalog.index", page=1) == "/services?page=1"
        assert url_for("catalog.index", page=True) == "/services?page=True"
        assert url_for("catalog.index", page=1) == "/services?page=1"


def test_relative_endpoints_resolve_against_the_request_blueprint(app, client):
    with app.test_request_context("/services"):
        app.preprocess_request()
        assert url_for(".guide", code="A-1") == "/services/A-1"
    with app.test_request_context("/offline"):
        assert url_for(".home") == "/"


def test_an_unknown_endpoint_still_fails(app):
    with app.test_request_context("/"):
        for _ in range(2):
            with pytest.raises(BuildError):
                url_for("nope.nothing")
