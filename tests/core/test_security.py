"""Security baseline: headers, CSRF everywhere, error pages in Chinese, htmx fragments."""

import ast
import inspect
import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from html_kit import attrs, has, is_fragment, values

import factories
from app.core.security import CSP

PUBLIC_PAGES = ["/", "/services", "/services?q=饭店", "/book", "/halls", "/login",
                "/staff/login", "/offline"]
# Shared by every anonymous visitor (app/catalog/httpcache.py): no one's token on them.
SHARED_PAGES = {"/", "/services", "/services?q=饭店"}


def test_csp_is_strict(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert csp == CSP
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_pages_have_no_inline_script_or_style_and_unique_ids(client, path):
    factories.item(name="测试饭店许可", keywords="饭店")
    response = client.get(path)
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert soup.title and soup.title.string.strip().endswith("掌上办")
    assert not [s for s in soup.find_all("script") if not s.get("src")]
    assert not soup.find_all("style") and not soup.select("[style]")
    assert not [t for t in soup.find_all(True) if any(a.startswith("on") for a in t.attrs)]
    assert not soup.select("[hx-on]") and not soup.select("[hx-vars]")
    ids = [t["id"] for t in soup.find_all(id=True)]
    assert len(ids) == len(set(ids)), f"duplicate ids on {path}"
    body = soup.body
    if path in SHARED_PAGES:
        assert not body.has_attr("hx-headers")
    else:
        assert "X-CSRFToken" in body["hx-headers"]
    config = soup.find("meta", attrs={"name": "htmx-config"})["content"]
    assert '"allowEval":false' in config and '"includeIndicatorStyles":false' in config


def _unsafe_rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            if rule.arguments:
                continue
            yield method, rule.rule


# Machine-to-machine endpoints that authenticate by a shared secret instead of a session.
CSRF_EXEMPT = {"/sms/receipts"}


def test_every_unsafe_route_requires_a_csrf_token(app, client):
    rules = list(_unsafe_rules(app))
    assert ("POST", "/login/code") in rules and ("POST", "/care") in rules
    for method, path in rules:
        response = client.open(path, method=method, data={"phone": "13800138000"}, csrf=False)
        if path in CSRF_EXEMPT:
            assert response.status_code == 403, (method, path, response.status_code)
        else:
            assert response.status_code == 400, (method, path, response.status_code)


def test_missing_csrf_keeps_what_was_typed(client):
    response = client.post("/login/code", data={"phone": "13800138000"}, csrf=False)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "页面已过期" in page and "138****8000" in page  # shown masked, for the way back
    assert "重新提交" not in page and "13800138000" not in values(page)  # nothing re-armed
    back = client.get("/login").get_data(as_text=True)  # the form's own page, to send again
    assert "13800138000" in attrs(back, "#restore-form")["data-fields"]


def test_htmx_request_with_header_token_passes(client):
    token = client.csrf_token()
    response = client.post("/care", headers={"HX-Request": "true", "X-CSRFToken": token},
                           csrf=False)
    assert response.status_code == 303


@pytest.mark.parametrize("path,code,word", [("/no-such-page", 404, "页面不存在"),
                                            ("/me", 302, None)])
def test_error_pages_are_chinese(client, path, code, word):
    response = client.get(path)
    assert response.status_code == code
    if word:
        assert word in response.get_data(as_text=True)


def test_error_is_a_fragment_for_htmx(client):
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and is_fragment(page) and "页面不存在" in page
    assert "HX-Request" in response.headers["Vary"]


def test_oversized_request_is_413_in_chinese(app, client):
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/login/code", data=big, content_type="application/octet-stream",
                           csrf=False)
    assert response.status_code == 413
    assert "太大" in response.get_data(as_text=True)


def test_unexpected_error_is_500_in_chinese(tmp_path):
    from app.core.access import public_view
    from app.factory import create_app

    app = create_app({"SECRET_KEY": "x", "RATELIMIT_STORAGE_URI": "memory://",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bug.db'}"})

    @app.get("/_test/bug")
    @public_view
    def bug():
        return 1 / 0  # a bug in some view

    response = app.test_client().get("/_test/bug", headers={"HX-Request": "true"})
    assert response.status_code == 500 and "系统繁忙" in response.get_data(as_text=True)


def test_search_varies_on_htmx(client):
    full = client.get("/services?q=户口")
    part = client.get("/services?q=户口", headers={"HX-Request": "true"})
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in part.headers["Vary"]
    assert not is_fragment(full) and is_fragment(part) and has(part, "#results")


def test_care_mode_is_remembered(client):
    response = client.post("/care", data={"next": "/services"})
    assert response.status_code == 303 and response.headers["Location"] == "/services"
    assert "care=1" in response.headers["Set-Cookie"]
    assert has(client.get("/"), "html.care")
    client.post("/care", data={"next": "/"})
    assert not has(client.get("/"), "html.care")


def test_care_toggle_refuses_offsite_next(client):
    response = client.post("/care", data={"next": "//evil.example"})
    assert response.headers["Location"] == "/"


LIMIT_CALLS = ("limiter.limit", "limiter.shared_limit")
APP_DIR = Path(__file__).resolve().parents[2] / "app"


def _limit_decorators(view) -> list[ast.Call]:
    """The `@limiter.limit(...)` lines written on a view function in our source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(view))))
    return [d for d in getattr(tree.body[0], "decorator_list", [])
            if isinstance(d, ast.Call) and ast.unparse(d.func) in LIMIT_CALLS]


def _limit_calls_in_app() -> list[str]:
    """Every limiter.limit / shared_limit call anywhere in app/, as file:line."""
    found = []
    for path in sorted(APP_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in LIMIT_CALLS:
                found.append(f"{path.relative_to(APP_DIR.parent)}:{node.lineno}")
    return found


def test_every_rate_limit_guards_an_unsafe_request(app):
    """The limiter skips GET/HEAD/OPTIONS through its request filter (app/extensions.py), which
    is only right while no limit applies to a safe request. A limit on a safe request would be
    silently dropped, so no request can show it: this reads the limits we declare instead (our
    source and config, not Flask-Limiter's internals). Each limit decorates a routed view, and
    names methods that leave out every safe method that view's rules take."""
    from app.extensions import SAFE_METHODS

    assert not app.config.get("RATELIMIT_DEFAULT") and not app.config.get("RATELIMIT_APPLICATION")
    limited, seen = [], set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for call in _limit_decorators(view):
            seen.add((inspect.unwrap(view), call.lineno))
            methods = next((ast.literal_eval(k.value) for k in call.keywords
                            if k.arg == "methods"), None)
            applies = {m.upper() for m in methods} if methods is not None else rule.methods
            safe = sorted(rule.methods & applies & SAFE_METHODS - {"OPTIONS"})
            assert not safe, (rule.rule, ast.unparse(call), safe)
            limited.append(rule.rule)
    # A limit put anywhere else (on a blueprint, or on a view by a call) is not checked above.
    assert len(seen) == len(_limit_calls_in_app()), _limit_calls_in_app()
    assert {"/login/code", "/progress/lookup", "/progress/lookup/code"} <= set(limited)

