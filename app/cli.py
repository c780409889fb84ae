"""Command-line tools: demo data, the worker, the outbox sweep, catalog import and export."""

import sys
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db

DEMO_CATALOG = Path(__file__).parent / "demo" / "catalog.yaml"
DEMO_ACCOUNTS = [
    # (username, password, role, hall name, display name)
    ("clerk", "clerk-demo-2026", "clerk", "乌兰浩特市政务服务中心", "王丽(综合窗口)"),
    ("admin", "admin-demo-2026", "admin", "乌兰浩特市政务服务中心", "李强(大厅管理员)"),
]
DEMO_CITIZEN = "13800138000"


def init_app(app) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(worker)
    app.cli.add_command(jobs_group)
    app.cli.add_command(catalog_group)


@click.group()
def demo():
    """Demo data."""


@demo.command("load")
@click.option("--force", is_flag=True, help="Load even when the database has data.")
def demo_load(force: bool):
    """Load the demo catalog and accounts into an empty database."""
    from app.auth.models import User
    from app.catalog.io import import_catalog
    from app.catalog.models import Hall, ServiceItem

    if db.session.scalar(select(func.count()).select_from(ServiceItem)) and not force:
        click.echo("数据库已有数据,跳过演示数据。")
        return
    import_catalog(DEMO_CATALOG.read_text(encoding="utf-8"))
    for username, password, role, hall_name, name in DEMO_ACCOUNTS:
        user = db.session.scalar(select(User).where(User.username == username)) or User(
            username=username)
        user.role, user.name = role, name
        user.hall = db.session.scalar(select(Hall).where(Hall.name == hall_name))
        user.set_password(password)
        db.session.add(user)
    if not db.session.scalar(select(User).where(User.phone == DEMO_CITIZEN)):
        db.session.add(User(phone=DEMO_CITIZEN, role="citizen", name="张三"))
    db.session.commit()
    for module in _feature_modules("demo"):
        module.load_demo()  # each feature's own demo rows, after the catalog and accounts
        db.session.commit()
    click.echo("已载入演示数据。")


def _feature_modules(kind: str):
    import importlib
    import importlib.util

    from app.models import installed_features

    for feature in installed_features():
        name = f"app.{feature}.{kind}"
        if importlib.util.find_spec(name) is not None:
            yield importlib.import_module(name)


@click.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty (for tests).")
def worker(burst: bool):
    """Run the RQ worker on every queue, with the scheduler and the outbox sweep."""
    from rq import Worker

    from app import jobs

    if not current_app.config.get("REDIS_URL"):
        sys.exit("REDIS_URL is not set: without Redis, jobs already run inline in the web app.")
    conn = jobs.redis_connection()
    jobs.check_redis_policy(conn)
    jobs.start_sweeper(current_app._get_current_object(),
                       current_app.config["OUTBOX_SWEEP_SECONDS"])
    Worker(list(jobs.QUEUES), connection=conn).work(with_scheduler=True, burst=burst)


@click.group("jobs")
def jobs_group():
    """The job outbox."""


@jobs_group.command("sweep")
def jobs_sweep():
    """Push (or run inline) every due job once."""
    from app import jobs

    click.echo(f"swept {jobs.sweep()} job(s)")


@click.group("catalog")
def catalog_group():
    """Import and export the service catalog."""


@catalog_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def catalog_import(path: str):
    """Import a catalog file; a bad file changes nothing and names each bad row."""
    from app.catalog.io import CatalogError, import_catalog

    try:
        report = import_catalog(Path(path).read_text(encoding="utf-8"))
    except CatalogError as err:
        for line in err.errors:
            click.echo(line, err=True)
        sys.exit(1)
    click.echo(f"导入完成:新增 {report.created},更新 {report.updated}")


@catalog_group.command("export")
def catalog_export():
    """Print the catalog as YAML."""
    from app.catalog.io import export_catalog

    click.echo(export_catalog(), nl=False)


def banner() -> None:
    """What `make run` prints before serving."""
    print("""
掌上办 is starting on http://127.0.0.1:5000

  Citizen:  any mobile number (demo: 13800138000); the SMS code is printed in this console
            as a line starting with [短信], and listed at http://127.0.0.1:5000/dev/outbox
  Clerk:    http://127.0.0.1:5000/staff/login  clerk / clerk-demo-2026
  Admin:    http://127.0.0.1:5000/staff/login  admin / admin-demo-2026
""", flush=True)
