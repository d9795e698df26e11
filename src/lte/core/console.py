"""What long work tells the person running it: log lines on stderr, durations, progress with an ETA."""

from __future__ import annotations

import sys
import time


def log_to_stderr(line: str) -> None:
    """The default `log` of every long-running function: one line on stderr, flushed at once."""
    print(line, file=sys.stderr, flush=True)


def format_duration(seconds: float) -> str:
    """0m07s, 12m30s, 3h05m: what a progress line shows."""
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """Counts done units of `total`; every `every` seconds tells `log` the count, rate and ETA (nothing without
    a log)."""

    def __init__(self, total: int, log, what: str = "batches", every: float = 5.0) -> None:
        self.total, self.log, self.what, self.every, self.done = total, log, what, every, 0
        self.start = self.last = time.perf_counter()

    def tick(self) -> None:
        self.done += 1
        now = time.perf_counter()
        if self.log is not None and now - self.last >= self.every:
            self.last = now
            rate = self.done / (now - self.start)
            self.log(
                f"evaluating: {self.done}/{self.total} {self.what} | {rate:.1f} {self.what}/s | "
                f"ETA {format_duration((self.total - self.done) / rate)}"
            )


def progress_line(done: int, total: int, name: str, status: str, elapsed: float) -> str:
    """One line per finished task of a sweep: its status, the time so far and the ETA."""
    eta = elapsed / done * (total - done)
    return f"[{done}/{total}] {name}: {status} | elapsed {format_duration(elapsed)} | ETA {format_duration(eta)}"
