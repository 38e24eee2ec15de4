"""How many jobs a worker claims at once, adapted to what its handler and its settling sustain.

A bigger batch spreads the fixed costs of a batch (the claim, one finalize transaction, one
forward pass of a model) over more jobs, until the device or the pipeline is saturated; beyond
that it only makes each job wait longer for the rest of its batch. So the sizer climbs:

- It measures the throughput at the current size (jobs per second from one claim to the next,
  settling waits included: the median over WINDOW full batches), then probes the size next to
  it, doubling while that pays at least GAIN more. A probe that does not pay goes back, holds
  for HOLD full batches, re-measures (the load may have changed) and probes the other way:
  halving is kept when it loses nothing (the same throughput with less waiting per job).
- A batch whose handler ran longer than max_batch_seconds halves the size at once, and no probe
  doubles a size whose batches would run that long: a face should not wait seconds behind
  others while the queue is short of that.
- Only full batches count. A claim that got fewer jobs than asked for says the queue ran dry,
  and then the size does not matter.

The device's own memory limit is not this module's: facegen/stylegan/runtime.Runner splits a
batch into chunks that fit and lowers its chunk size after an out-of-memory.
"""

from __future__ import annotations

import statistics

WINDOW = 3       # full batches measured per size
GAIN = 0.10      # a doubled batch is kept when it moves at least 10% more jobs per second
HOLD = 30        # full batches at a settled size before the next probe
MAX_BATCH_SECONDS = 2.0   # most handler seconds per batch


class BatchSizer:
    def __init__(self, start: int, maximum: int, *, minimum: int = 1,
                 max_batch_seconds: float = MAX_BATCH_SECONDS) -> None:
        if not 1 <= minimum <= maximum:
            raise ValueError(f"batch sizes must satisfy 1 <= minimum <= maximum, got {minimum} and {maximum}")
        self.minimum, self.maximum = minimum, maximum
        self.max_batch_seconds = max_batch_seconds
        self.size = min(max(start, minimum), maximum)
        self._rates: list[float] = []      # jobs/s of the full batches measured at self.size
        self._settled_rate: float | None = None   # the measured rate of the size a probe left
        self._probe_from: int | None = None       # the size a probe left (None: not probing)
        self._direction = 1                # the next probe doubles (1) or halves (-1)
        self._held = 0                     # full batches since the size settled
        self._handler_seconds = 0.0        # of the last full batch

    @property
    def adaptive(self) -> bool:
        return self.minimum < self.maximum

    def observe(self, asked: int, claimed: int, seconds: float, handler_seconds: float) -> None:
        """One batch: `asked` for, `claimed` got, `seconds` from its claim to the next claim,
        `handler_seconds` of it in the handler."""
        if not self.adaptive:
            return
        if handler_seconds > self.max_batch_seconds and self.size > self.minimum:
            self._settle(max(self.minimum, self.size // 2))
            self._direction = -1 if self.size > self.minimum else 1
            return
        if claimed < asked or seconds <= 0:
            return
        if self._probe_from is None and self._settled_rate is not None and self._held < HOLD:
            self._held += 1
            return
        self._handler_seconds = handler_seconds
        self._rates.append(claimed / seconds)
        if len(self._rates) < WINDOW:
            return
        rate = statistics.median(self._rates)
        self._rates = []
        if self._probe_from is not None:
            self._judge_probe(rate)
        else:
            self._settled_rate = rate
            self._probe()

    def _judge_probe(self, rate: float) -> None:
        assert self._probe_from is not None and self._settled_rate is not None
        if self.size > self._probe_from:
            kept = rate >= self._settled_rate * (1 + GAIN)
        else:
            kept = rate >= self._settled_rate
        if kept:   # go on the same way from here
            self._settled_rate, self._probe_from = rate, None
            self._probe(turn=False)
        else:
            self._settle(self._probe_from)
            self._direction = -self._direction

    def _probe(self, turn: bool = True) -> None:
        """Try the next size in the current direction (at a bound: the other, if `turn`)."""
        for direction in (self._direction, -self._direction) if turn else (self._direction,):
            size = min(self.size * 2, self.maximum) if direction > 0 else max(self.size // 2, self.minimum)
            too_slow = direction > 0 and 2 * self._handler_seconds > self.max_batch_seconds
            if size != self.size and not too_slow:
                self._direction = direction
                self._probe_from, self.size = self.size, size
                return
        self._settle(self.size)

    def _settle(self, size: int) -> None:
        self.size, self._probe_from, self._rates, self._held = size, None, [], 0
        if self._settled_rate is None:   # settled before any measurement (a too-long batch)
            self._settled_rate = 0.0
