"""The deployment files agree with each other and with the README (issue 11's "done when")."""

import gc
import re
import runpy
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
UNITS = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "deploy/systemd").iterdir()}
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def _exec_start(unit: str) -> str:
    line = re.search(r"^ExecStart=(.+)$", UNITS[unit], re.M).group(1)
    return re.sub(r"^\S*/\.venv/bin/", "", line)


def test_every_deploy_file_is_in_the_readme():
    files = [p.relative_to(ROOT).as_posix() for p in (ROOT / "deploy").rglob("*") if p.is_file()]
    missing = [f for f in files if f not in README and Path(f).name not in README]
    assert missing == []
    for name in ("compose.yaml", "Dockerfile"):
        assert name in README


def test_compose_runs_what_the_units_run():
    services = COMPOSE["services"]
    assert {"db", "redis", "web", "worker", "scheduler"} <= set(services)
    assert services["worker"]["command"] == _exec_start("palm-worker@.service")
    assert services["scheduler"]["command"] == _exec_start("palm-scheduler.service")
    assert "gunicorn -c deploy/gunicorn.conf.py wsgi:app" in services["web"]["command"]
    assert _exec_start("palm-web.service") == "gunicorn -c deploy/gunicorn.conf.py wsgi:app"
    assert "db upgrade heads" in services["web"]["command"]
    assert "db upgrade heads" in UNITS["palm-web.service"]


def test_units_read_the_same_settings_file_and_restart():
    for name in ("palm-web.service", "palm-worker@.service", "palm-scheduler.service"):
        assert "EnvironmentFile=/etc/palm/palm.env" in UNITS[name], name
        assert "Restart=always" in UNITS[name] or "Restart=on-failure" in UNITS[name], name


def test_every_setting_in_the_example_is_documented():
    example = (ROOT / "deploy/palm.env.example").read_text(encoding="utf-8")
    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M)
    assert names
    assert [n for n in names if f"`{n}`" not in README] == []


def test_every_setting_the_app_reads_is_documented():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "app").rglob("*.py"))
    names = set(re.findall(r'_(?:int|float|bool|str|list)\("([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'os\.environ(?:\.get)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'os\.environ\["([A-Z][A-Z0-9_]+)"\]', source))
    names |= set(re.findall(r'\benv\("([A-Z][A-Z0-9_]+)"', source))
    for table in re.findall(r"names = \{(.*?)\}", source, re.S):  # config.py's groups
        names |= set(re.findall(r'"([A-Z][A-Z0-9_]+)":', table))
    assert names
    assert sorted(n for n in names if f"`{n}`" not in README) == []


def test_nginx_allows_the_upload_limit():
    nginx = (ROOT / "deploy/nginx.conf").read_text(encoding="utf-8")
    body = int(re.search(r"client_max_body_size\s+(\d+)m;", nginx).group(1))
    from app.config import from_env

    assert body * 1024 * 1024 > from_env()["UPLOAD_MAX_BYTES"]


def test_gunicorn_freezes_the_preloaded_app_before_each_fork(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # the file sets it otherwise
    conf = runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))
    assert conf["preload_app"] is True
    assert gc.get_freeze_count() == 0
    try:
        conf["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_gunicorn_compiles_every_template_in_the_master_before_the_first_fork(monkeypatch,
                                                                           tmp_path):
    from app.factory import create_app

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf = runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))
    web = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}"})

    class Server:  # what when_ready uses of gunicorn's arbiter: the preloaded app
        class app:  # noqa: N801
            @staticmethod
            def wsgi():
                return web

    templates = web.jinja_env.list_templates(extensions=["html"])
    assert len(templates) > 100 and len(web.jinja_env.cache) == 0
    conf["when_ready"](Server)
    assert len(web.jinja_env.cache) == len(templates)  # each compiled once, here


def test_gunicorn_builds_no_access_line_when_the_app_writes_it(monkeypatch, tmp_path):
    """LOG_FORMAT=json: the app logs each request itself, and gunicorn's logger does no work for
    an access line of its own (with text logs, gunicorn's own logger and line, as before)."""
    from gunicorn.config import Config

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("LOG_FORMAT", "json")
    conf = runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))
    assert conf["accesslog"] is None
    cfg = Config()
    cfg.set("logger_class", conf["logger_class"])
    assert cfg.logger_class is conf["logger_class"]  # gunicorn takes the setting as it is
    # Built without __init__, whose setup() would rewire this process's "gunicorn.*" loggers. With
    # an access log on, gunicorn's own Logger would build the line's atoms from these arguments.
    cfg.set("accesslog", "-")
    logger = conf["logger_class"].__new__(conf["logger_class"])
    logged = []

    class AccessLog:
        def info(self, *args):
            logged.append(args)

    logger.cfg, logger.access_log = cfg, AccessLog()
    logger.access(None, None, None, None)
    assert logged == []
    monkeypatch.setenv("LOG_FORMAT", "text")
    assert "logger_class" not in runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))
