"""Reading the code: the outbox (app/jobs.py; its table, app/outbox.py) is the one place that
decides when a job runs again.

RQ only carries jobs: nothing uses its retries, its scheduler or its delayed enqueues; only
app/jobs.py puts jobs on RQ's queues or changes an outbox row; and no job books its own next run.
"""

import ast
from pathlib import Path

from app import jobs

APP = Path(__file__).resolve().parents[2] / "app"
SOURCES = {path.relative_to(APP.parent).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
           for path in APP.rglob("*.py")}
RQ_SCHEDULING = {"enqueue_in", "enqueue_at", "schedule", "schedule_job"}
RQ_PUSHING = {"enqueue_many", "enqueue_call", "enqueue_job"}


def _nodes(kind):
    for name, tree in SOURCES.items():
        for node in ast.walk(tree):
            if isinstance(node, kind):
                yield name, node


def _called(node: ast.Call) -> str | None:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
        node.func, "id", None)


def test_nothing_uses_rqs_retries_or_scheduler():
    imported = {(name, alias.name) for name, node in _nodes(ast.ImportFrom)
                if (node.module or "").startswith("rq") for alias in node.names}
    assert not {found for found in imported if found[1] in {"Retry", "Repeat", "RQScheduler"}}
    assert [(name, _called(node)) for name, node in _nodes(ast.Call)
            if _called(node) in RQ_SCHEDULING] == []
    keywords = [(name, kw.arg) for name, node in _nodes(ast.Call) for kw in node.keywords
                if kw.arg in ("retry", "repeat") or (
                    kw.arg == "with_scheduler" and not (
                        isinstance(kw.value, ast.Constant) and kw.value.value is False))]
    assert keywords == []


def test_only_the_outbox_pushes_to_rq_or_touches_its_rows():
    pushing = {name for name, node in _nodes(ast.Call) if _called(node) in RQ_PUSHING}
    assert pushing == {"app/jobs.py"}
    touching = {name for name, node in _nodes(ast.Name) if node.id in ("OutboxJob", "JobStatus")}
    touching |= {name for name, node in _nodes(ast.Attribute)
                 if node.attr in ("OutboxJob", "JobStatus")}
    # app/outbox.py is the table itself; metrics only counts rows by status for /metrics
    assert touching <= {"app/jobs.py", "app/outbox.py", "app/ops/metrics.py"}


def test_no_job_books_its_own_next_run():
    jobs.registry()
    daily = set(jobs._DAILY)
    assert daily, "the daily housekeeping is written by `flask scheduler`"
    constants = {target.id: node.value.value for _, node in _nodes(ast.Assign)
                 if isinstance(node.value, ast.Constant) for target in node.targets
                 if isinstance(target, ast.Name)}
    enqueued = set()
    for _, node in _nodes(ast.Call):
        if _called(node) == "enqueue" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant):
                enqueued.add(first.value)
            elif isinstance(first, ast.Name):
                enqueued.add(constants.get(first.id))
    assert enqueued and not enqueued & daily
