"""Waiting for what the server does asynchronously, without a fixed sleep that a loaded machine
can outrun."""

from __future__ import annotations

import time


def eventually(condition, timeout: float = 5.0, interval: float = 0.05):
    """Calls `condition` until it answers something true or `timeout` seconds pass; its last answer.
    A condition that raises is asked again (the answer is not there yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = condition()
        except Exception:
            if time.monotonic() > deadline:
                raise
            answer = None
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(interval)
