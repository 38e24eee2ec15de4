"""Prometheus metrics, in two families that aggregate differently:

Counted by this process (counters and histograms; sum them over instances):
    dreamface_jobs_finished_total{kind,outcome}      jobs this process's worker settled:
                                                     done | failed | retried | cancelled | lost
    dreamface_job_queue_wait_seconds{kind}           from a job becoming ready to a worker claiming it
    dreamface_job_run_seconds{kind}                  from the claim to its outcome being stored
    dreamface_batch_size{kind}                       jobs per handler call
    dreamface_worker_batch_target                    jobs the worker's next claim asks for (adapts
                                                     to the throughput; storage/batch_sizer.py)
    dreamface_render_batch_size{backend}             faces per forward pass of a model (a batch
                                                     split to fit in memory counts once per chunk)
    dreamface_render_batch_limit{backend}            most faces per forward pass now (lowered
                                                     after an out-of-memory)
    dreamface_deliveries_total{platform,outcome}     send attempts of this process's couriers:
                                                     sent | refused (permanent: blocked, chat gone) |
                                                     error (transient; retried until the last attempt)
    dreamface_gpu_memory_bytes{device,pool}          torch CUDA memory (allocated, reserved);
                                                     absent where CUDA is not in use

Read from the database on each scrape of the chat side (dreamface/health.py; the same figure
on every chat process; take max, not sum):
    dreamface_jobs{kind,state}                       queued and running jobs
    dreamface_queue_oldest_ready_seconds{queue}      how long the oldest ready job has waited
    dreamface_deliveries_pending{platform}           replies waiting for a chat process
    dreamface_live_processes{kind}                   worker and chat processes with fresh heartbeats
    dreamface_style_workers{backend,model,label}     live workers serving each style (dreamface/health.py
                                                     lists the styles: those users may pick, and the default)
    dreamface_style_jobs_queued{backend,model,label} jobs waiting for each style's workers
    dreamface_moderation_events_total{action}        rows in the moderation audit log
    dreamface_database_up                            0 when the database could not be read
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST
_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

JOBS_FINISHED = Counter("dreamface_jobs_finished", "Jobs this process's worker settled, by kind and outcome",
                        ["kind", "outcome"])
JOB_QUEUE_WAIT = Histogram("dreamface_job_queue_wait_seconds", "Seconds from a job becoming ready to its claim",
                           ["kind"], buckets=_SECONDS)
JOB_RUN = Histogram("dreamface_job_run_seconds", "Seconds from a job's claim to its stored outcome",
                    ["kind"], buckets=_SECONDS)
BATCH_SIZE = Histogram("dreamface_batch_size", "Jobs per handler call", ["kind"],
                       buckets=(1, 2, 4, 8, 16, 32, 64))
WORKER_BATCH_TARGET = Gauge("dreamface_worker_batch_target", "Jobs the worker's next claim asks for")
RENDER_BATCH = Histogram("dreamface_render_batch_size", "Faces per forward pass of a model", ["backend"],
                         buckets=(1, 2, 4, 8, 16, 32, 64, 128))
RENDER_BATCH_LIMIT = Gauge("dreamface_render_batch_limit", "Most faces per forward pass now", ["backend"])
DELIVERIES = Counter("dreamface_deliveries", "Replies this process's couriers handled, by platform and outcome",
                     ["platform", "outcome"])


class GpuMemoryCollector(Collector):
    """CUDA memory of this process, read at scrape time. torch is only consulted if this process
    already imported it (a chat process never pays for importing torch to say "no GPU")."""

    def collect(self) -> Iterator[Metric]:
        torch = sys.modules.get("torch")
        if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
            return
        family = GaugeMetricFamily("dreamface_gpu_memory_bytes", "CUDA memory held by this process's tensors",
                                   labels=["device", "pool"])
        for index in range(torch.cuda.device_count()):
            device = f"cuda:{index}"
            family.add_metric([device, "allocated"], torch.cuda.memory_allocated(index))
            family.add_metric([device, "reserved"], torch.cuda.memory_reserved(index))
        yield family


REGISTRY.register(GpuMemoryCollector())


def process_metrics() -> bytes:
    """The exposition text of what this process counted (the worker's /metrics)."""
    return generate_latest(REGISTRY)
