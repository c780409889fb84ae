"""GET /metrics for Prometheus, kept from the public (README "Observability"), and /healthz."""

import hmac
import ipaddress

from flask import Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from app.core.access import public_view
from app.ops import bp, health, metrics

# Loopback and the private ranges (RFC 1918, IPv6 unique local): the hall's own network.
PRIVATE = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7")]


def _private(address: str | None) -> bool:
    """Whether the client (as ProxyFix sees it behind nginx) is on a private network."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in net for net in PRIVATE if net.version == ip.version)


def _token_ok() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@bp.get("/metrics")
@public_view
def metrics_view():
    """Prometheus text format; 404 to public addresses, 403 without the bearer token if set."""
    if not _private(request.remote_addr):
        abort(404)  # the same page as any unknown URL: nothing to probe from outside
    if not _token_ok():
        return Response("metrics: missing or wrong bearer token\n", 403,
                        {"Content-Type": "text/plain; charset=utf-8",
                         "WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(metrics.exposition(), 200, {"Content-Type": CONTENT_TYPE_LATEST,
                                                "Cache-Control": "no-store"})


@bp.get("/healthz")
@public_view
def healthz():
    """Database and Redis reachability; 503 naming what is down and what that means."""
    checks, reasons = health.checks()
    body = {"status": "unhealthy" if reasons else "ok", "checks": checks}
    if reasons:
        body["reason"] = "; ".join(reasons)
    response = jsonify(body)
    response.status_code = 503 if reasons else 200
    response.headers["Cache-Control"] = "no-store"
    return response
