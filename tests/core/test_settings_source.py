"""Settings are read in app/config.py only; no route repeats a default; no production code
fakes a request to build a URL (issue 18, points 7 and 8)."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
CONFIG = APP / "config.py"


def _modules():
    for path in sorted(APP.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(APP.parent)}:{node.lineno}"


def test_no_module_but_config_reads_the_environment():
    found = []
    for path, tree in _modules():
        if path == CONFIG:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                found.append(_where(path, node))
            if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                    alias.name in ("environ", "getenv", "environb") for alias in node.names):
                found.append(_where(path, node))
    assert found == []


def test_no_setting_default_is_repeated_outside_config():
    """config.get("NAME", default) and config.setdefault(...) outside app/config.py: the default
    belongs in config.py, where every setting gets its value."""
    found = []
    for path, tree in _modules():
        if path == CONFIG:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("get", "setdefault") and len(node.args) == 2
                    and "config" in ast.unparse(node.func.value)
                    and isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).isupper()):
                found.append(f"{_where(path, node)} {ast.unparse(node)}")
    assert found == []


def test_no_production_code_builds_a_fake_request():
    found = [_where(path, node) for path, tree in _modules() for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and node.attr == "test_request_context"]
    assert found == []


def test_a_job_builds_absolute_links_from_server_name(app):
    from app.core.links import external_url

    app.config.update(SERVER_NAME="zsb.xam.gov.cn", PREFERRED_URL_SCHEME="https")
    try:
        with app.app_context():
            assert external_url("catalog.guide", code="SC-1") == \
                "https://zsb.xam.gov.cn/services/SC-1"
    finally:
        app.config.update(SERVER_NAME=None, PREFERRED_URL_SCHEME="http")
    with app.app_context():  # a laptop's job without SERVER_NAME: as before, localhost
        assert external_url("catalog.guide", code="SC-1") == "http://localhost/services/SC-1"
