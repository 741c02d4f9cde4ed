"""Prometheus metrics at GET /metrics, with METRICS_ENABLED (off by default: then nothing
here runs at all).

Counted across every worker process with prometheus_client's multiprocess mode: each
process writes its values to files in PROMETHEUS_MULTIPROC_DIR (by default the instance
folder's ``metrics``), and /metrics, whichever worker answers it, adds them up.
"""

import os
import re
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request

EXTENSION_KEY = "jwtauthtest.metrics"
DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
STARTED_KEY = "jwtauthtest.started"


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram  # after PROMETHEUS_MULTIPROC_DIR

        self.counters = {
            "logins": Counter("jwtauthtest_logins", "Login attempts by outcome",
                              ["outcome"], registry=None),
            "token_refreshes": Counter("jwtauthtest_token_refreshes",
                                       "Refresh attempts by outcome", ["outcome"], registry=None),
            "tokens_rejected": Counter("jwtauthtest_tokens_rejected",
                                       "Requests to protected views refused, by reason",
                                       ["reason"], registry=None),
            "second_factor": Counter("jwtauthtest_second_factor",
                                     "Second-factor events: enrolled, verified, failed, "
                                     "recovery_used, removed", ["event"], registry=None),
            "passkeys": Counter("jwtauthtest_passkeys",
                                "Passkey events: registered, signed_in, refused",
                                ["event"], registry=None),
            "email": Counter("jwtauthtest_email",
                             "E-mail account events: reset_asked, password_reset, "
                             "address_asked, address_confirmed, signed_up",
                             ["event"], registry=None),
            "mail": Counter("jwtauthtest_mail", "Outbox events: sent (the server took it), "
                            "failed (a try it could not take), refused (for good)", ["event"],
                            registry=None),
            "introspections": Counter("jwtauthtest_introspections",
                                      "Token introspections by outcome: active, inactive, "
                                      "unauthorized (client credentials refused)",
                                      ["outcome"], registry=None),
            "database_unavailable": Counter("jwtauthtest_database_unavailable",
                                            "Requests answered 503 for the database",
                                            registry=None),
        }
        self.duration = Histogram("jwtauthtest_request_duration_seconds",
                                  "Time to answer a request, by endpoint", ["endpoint"],
                                  registry=None)
        self._duration_by_endpoint: dict[str | None, Any] = {}

    def timed(self, wsgi_app: Callable) -> Callable:
        """The WSGI app, noting when each request came in (the earliest the app can)."""

        def app(environ: dict, start_response: Callable) -> Any:
            environ[STARTED_KEY] = time.perf_counter()
            return wsgi_app(environ, start_response)

        return app

    def observe(self, _error: BaseException | None = None) -> None:
        """Time the request by its endpoint (a teardown: one hook, run for every request)."""
        histogram = self._duration_by_endpoint.get(request.endpoint)
        if histogram is None:
            histogram = self._duration_by_endpoint[request.endpoint] = self.duration.labels(
                request.endpoint or "unknown")
        histogram.observe(time.perf_counter() - request.environ[STARTED_KEY])


def init_metrics(app: Flask) -> None:
    if not app.config["METRICS_ENABLED"]:
        return
    directory = os.environ.setdefault(DIRECTORY_VARIABLE,
                                      os.path.join(app.instance_path, "metrics"))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    forget_dead_processes(directory)
    metrics = app.extensions[EXTENSION_KEY] = Metrics()
    app.wsgi_app = metrics.timed(app.wsgi_app)  # type: ignore[method-assign]
    app.teardown_request(metrics.observe)
    app.add_url_rule("/metrics", "metrics", metrics_view)


def forget_dead_processes(directory: str) -> None:
    """Delete the files of worker processes that are gone (their counts end with them; a
    Prometheus counter that drops is read as a restart), so that files don't pile up."""
    for name in os.listdir(directory):
        found = re.fullmatch(r".+_(\d+)\.db", name)
        if found and not process_exists(int(found.group(1))):
            try:
                os.remove(os.path.join(directory, name))
            except FileNotFoundError:
                pass  # another worker starting at the same time removed it


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def count(counter: str, **labels: str) -> None:
    """Count one of a counter, when metrics are on."""
    metrics = current_app.extensions.get(EXTENSION_KEY)
    if metrics is not None:
        metric: Any = metrics.counters[counter]
        (metric.labels(**labels) if labels else metric).inc()


def metrics_view() -> Response:
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, os.environ[DIRECTORY_VARIABLE])
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
