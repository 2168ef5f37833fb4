"""Prometheus metrics, through prometheus-client: the reference implementation of the
text exposition format (label escaping, cumulative histogram buckets, HELP/TYPE lines)
that scrapers parse; hand-writing it would be a second, untested copy of that format.
Each app has its own registry, so several apps (tests) never share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest

disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series only double the output

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.decisions = Counter("escalator_decisions", "Decisions answered, by policy and handler.",
                                 ("policy", "handler"), registry=r)
        self.errors = Counter("escalator_errors", "Requests or batch cases refused, by kind.", ("kind",), registry=r)
        self.latency = Histogram("escalator_request_seconds", "Time to answer a request, by endpoint.",
                                 ("endpoint",), buckets=LATENCY_BUCKETS, registry=r)
        self.log_failures = Counter("escalator_log_failures", "Decisions that could not be logged.", registry=r)
        self.reloads = Counter("escalator_reloads", "Policy reloads, by result.", ("result",), registry=r)
        self.live = Gauge("escalator_policy_set_live", "1 for the policy-set digest now answering.",
                          ("digest",), registry=r)
        self._live_digest: str | None = None

    def set_live(self, digest: str) -> None:
        if self._live_digest is not None and self._live_digest != digest:
            self.live.remove(self._live_digest)
        self.live.labels(digest).set(1)
        self._live_digest = digest

    def error(self, kind: str) -> None:
        self.errors.labels(kind).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
