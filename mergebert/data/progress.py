"""A small progress line on stderr: done/total, rate and ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Redraws one line on a terminal (at most 5 times a second); elsewhere prints a line every 30 s."""

    def __init__(self, total: int, label: str, unit: str, stream: TextIO | None = None) -> None:
        self.total, self.label, self.unit = total, label, unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = self.drawn = 0
        self.note = ""
        self.start = self.last = time.monotonic()

    def update(self, n: int = 1, note: str = "") -> None:
        self.done += n
        self.note = note or self.note
        now = time.monotonic()
        if now - self.last >= (0.2 if self.tty else 30.0) or self.done == self.total:
            self.last = now
            self._draw(now)

    def close(self) -> None:
        if self.drawn != self.done or not self.done:
            self._draw(time.monotonic())
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def _draw(self, now: float) -> None:
        self.drawn = self.done
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = f"{int(left // 60)}:{int(left % 60):02d}" if left == left else "?"
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        line = (
            f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{rate:.1f} {self.unit}/s ETA {eta} {self.note}"
        )
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.stream.flush()
