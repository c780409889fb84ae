"""Command-line tools: demo data, the worker, the scheduler, catalog import and export."""

import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select

from app import features, jobs
from app.auth import demo as auth_demo
from app.auth.demo import DEMO_CITIZEN
from app.catalog.filecheck import CatalogError
from app.catalog.io import export_catalog, export_csv, import_catalog, import_file
from app.catalog.models import ServiceItem
from app.extensions import db
from app.reading import engine

DEMO_CATALOG = Path(__file__).parent / "demo" / "catalog.yaml"


def init_app(app) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(worker)
    app.cli.add_command(scheduler)
    app.cli.add_command(catalog_group)


@click.group()
def demo():
    """Demo data."""


@demo.command("load")
@click.option("--force", is_flag=True, help="Load even when the database has data.")
def demo_load(force: bool):
    """Load the demo catalog and accounts into an empty database."""
    if db.session.scalar(select(func.count()).select_from(ServiceItem)) and not force:
        click.echo("数据库已有数据,跳过演示数据。")
        return
    import_catalog(DEMO_CATALOG.read_text(encoding="utf-8"))
    auth_demo.load_accounts()
    db.session.commit()
    for module in features.DEMO:
        module.load_demo()  # each feature's own demo rows, after the catalog and accounts
        db.session.commit()
    click.echo("已载入演示数据。")


@click.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty (for tests).")
@click.option("--worker-ttl", type=int, default=None,
              help="Seconds RQ keeps this worker registered without a heartbeat (WORKER_TTL).")
@click.option("--maintenance-interval", type=int, default=None,
              help="Seconds between RQ's registry clean-ups (WORKER_MAINTENANCE_SECONDS).")
@click.option("--fork/--no-fork", default=True,
              help="Run each job in a forked work horse (default), or in this process: faster, "
                   "less isolated (see README).")
def worker(burst: bool, worker_ttl: int | None, maintenance_interval: int | None, fork: bool):
    """Run the jobs RQ brings from every queue; `flask scheduler` keeps their time."""
    config = current_app.config
    conn = _redis_or_exit(strict=True)
    if config.get("PHOTO_READING"):  # the OCR engine once, before work horses fork (智能预审)
        engine.preload(config["OCR_THREADS"])

    # The app, its modules and mappers live as long as the process: out of the collector's
    # sight, a full collection no longer walks them (gc.freeze; gunicorn's pre_fork does the
    # same for the web, see deploy/gunicorn.conf.py).
    gc.freeze()

    def new_worker():
        return _worker_class(fork)(
            list(jobs.QUEUES), connection=conn, job_monitoring_interval=10,
            worker_ttl=worker_ttl or config["WORKER_TTL"],
            maintenance_interval=maintenance_interval or config["WORKER_MAINTENANCE_SECONDS"])

    keep_working(new_worker, burst)


def keep_working(new_worker: Callable, burst: bool,
                 pause: Callable[[float], None] = time.sleep) -> None:
    """Run workers from `new_worker()` until a stop request or, with `burst`, empty queues; after
    one that ends or cannot be built (Redis away) comes a new one, 2 s of `pause` later."""
    from redis.exceptions import RedisError

    while True:  # RQ quits on some Redis errors; only a stop request or a burst ends us
        rq_worker = None
        try:  # building the worker talks to Redis too (it names its connection)
            rq_worker = new_worker()
            rq_worker.work(burst=burst, with_scheduler=False)
        except RedisError as exc:
            if burst:
                raise
            click.echo(f"worker lost Redis ({exc})", err=True)
        if burst or (rq_worker is not None and rq_worker.stop_requested):
            return
        click.echo("worker loop ended; starting again in 2 s", err=True)
        pause(2)


def _worker_class(fork: bool):
    from rq import SimpleWorker, Worker

    class PalmWorker(Worker if fork else SimpleWorker):
        stop_requested = False
        # Ask a Redis that went away again this often (RQ's default backs off to a minute).
        max_connection_wait_time = float(current_app.config["OUTBOX_SWEEP_SECONDS"])

        def request_stop(self, signum, frame):
            self.stop_requested = True
            super().request_stop(signum, frame)

    return PalmWorker


@click.command()
@click.option("--once", is_flag=True, help="One round, then stop (for tests and cron).")
def scheduler(once: bool):
    """Keep time for the jobs every OUTBOX_SWEEP_SECONDS: write the day's rows, take back lost
    ones, hand out what is due (without Redis, run it here). One per deployment."""
    if current_app.config.get("REDIS_URL"):
        _redis_or_exit(strict=False)
    interval = current_app.config["OUTBOX_SWEEP_SECONDS"]
    while True:
        try:
            if handed := jobs.tick():
                click.echo(f"scheduler: handed out {handed} due job(s)")
        except Exception as exc:  # noqa: BLE001 - an outage must not stop the clock
            click.echo(f"scheduler: {type(exc).__name__}: {exc}; trying again", err=True)
        finally:
            db.session.remove()
        if once:
            return
        time.sleep(interval)


def _redis_or_exit(strict: bool):
    """Redis, refused when it evicts; unreachable is fatal only when strict."""
    from redis.exceptions import RedisError

    if strict and not current_app.config.get("REDIS_URL"):
        sys.exit("REDIS_URL is not set: without Redis, jobs run inline in the web app.")
    conn = jobs.redis_connection()
    try:
        jobs.check_redis_policy(conn)
    except RedisError as exc:
        if strict:
            sys.exit(f"Cannot reach Redis at REDIS_URL: {exc}")
        click.echo(f"Redis unreachable ({exc}); jobs wait in the outbox until it is back", err=True)
    return conn


@click.group("catalog")
def catalog_group():
    """Import and export the service catalog."""


@catalog_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def catalog_import(path: str):
    """Import a YAML or .csv catalog file; a bad file changes nothing and names each bad row."""
    try:
        report = import_file(Path(path).read_bytes(), path)
    except CatalogError as err:
        click.echo(f"导入失败,没有做任何修改。共 {len(err.errors)} 处错误:", err=True)
        for line in err.errors:
            click.echo(line, err=True)
        sys.exit(1)
    click.echo(f"导入完成:新增 {report.created},更新 {report.updated}")


@catalog_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["yaml", "csv"]), default="yaml",
              show_default=True, help="YAML (the demo data's format) or CSV.")
def catalog_export(fmt: str):
    """Print the active catalog as YAML or CSV."""
    click.echo(export_catalog() if fmt == "yaml" else export_csv(), nl=False)


def banner(port: int = 5000) -> None:
    """What `make run` prints before serving (`make run PORT=5050` changes the port)."""
    site = f"http://127.0.0.1:{port}"
    print(f"""
掌上办 is starting on {site}

  Citizen:  any mobile number (demo: {DEMO_CITIZEN}); the SMS code is printed in this console
            as a line starting with [短信], and listed at {site}/dev/outbox
  Staff:    {site}/staff/login
            clerk / clerk-demo-2026     window clerk, 乌兰浩特市政务服务中心
            admin / admin-demo-2026     hall admin, 乌兰浩特市政务服务中心
            clerk2 / clerk2-demo-2026   window clerk, 科尔沁右翼前旗政务服务中心
            admin2 / admin2-demo-2026   hall admin, 科尔沁右翼前旗政务服务中心
            city / city-demo-2026       city-wide admin (every hall, the city calendar)
""", flush=True)
