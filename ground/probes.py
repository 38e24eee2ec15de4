"""Readiness that a running part of a process reports about itself (a Discord client's
shards, say). dreamface/health.py asks every probe added here on each /readyz and lists what it
says; the part's metrics go through prometheus' REGISTRY (ground/metrics.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProbeReport:
    name: str            # the readiness check's name, also the key of `details` in /readyz's JSON
    ok: bool
    detail: str          # one line for the operator
    details: Any = None  # JSON-ready state shown beside the checks (None: nothing)


Probe = Callable[[], "ProbeReport | None"]   # None: nothing running to report on now
_probes: list[Probe] = []


def add(probe: Probe) -> None:
    """Ask `probe` on every /readyz of this process from now on."""
    _probes.append(probe)


def reports() -> list[ProbeReport]:
    return [report for report in (probe() for probe in list(_probes)) if report is not None]
