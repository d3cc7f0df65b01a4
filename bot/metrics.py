"""Prometheus metrics, on a registry per application so that tests can run several apps."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.messages = Counter(
            "motcua_messages",
            "Messages handled, by channel and decision",
            ["channel", "decision"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "motcua_handling_seconds",
            "Time to handle one message (database and search, not sending)",
            ["channel"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.errors = Counter(
            "motcua_handler_errors", "Handler failures", ["channel"], registry=self.registry
        )
        self.duplicates = Counter(
            "motcua_duplicate_events",
            "Redelivered events dropped",
            ["channel"],
            registry=self.registry,
        )
