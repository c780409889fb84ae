"""The app's Redis client and RQ queues, one of each per process (app.extensions), and the check
that Redis will not evict queued jobs. The outbox (app/jobs.py) pushes through them."""

from flask import current_app


def redis_connection():
    """The app's Redis client (one connection pool per process), with short timeouts so an
    outage never hangs a request; a new client each time would connect anew for every push."""
    from redis import Redis

    url = current_app.config["REDIS_URL"]
    clients = current_app.extensions.setdefault("palm.redis", {})
    if url not in clients:
        clients[url] = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2,
                                      health_check_interval=30)
    return clients[url]


def queue_for(name: str, conn):
    """RQ's Queue for a name, kept with the client: RQ asks the server its version (INFO) once
    per Queue object, which a new object on every push would ask again."""
    from rq import Queue

    queues = current_app.extensions.setdefault("palm.rq_queues", {})
    key = (conn, name)
    if key not in queues:
        queues[key] = Queue(name, connection=conn)
    return queues[key]


def check_redis_policy(conn) -> None:
    """Refuse an evicting Redis: it could silently drop queued jobs."""
    policy = conn.config_get("maxmemory-policy").get("maxmemory-policy")
    if policy != "noeviction":
        raise SystemExit(
            f"Redis maxmemory-policy is '{policy}'; jobs could be evicted. "
            "Set 'maxmemory-policy noeviction' before starting the worker.")
