"""Attempt limits for log-in and sign-up: a sliding window of recent failures per key.

Log-in counts *failures* per login name and per client address: five wrong passwords for
one login within the window lock that login out (whoever tries, from wherever), twenty
from one address lock that address out (whichever logins it tries). While a key is over
its limit the password is not even checked, so a guess made then tells nothing, and the
answer is 429 with ``Retry-After`` — for an unknown login exactly as for a known one.

State is in the process (a dict of deques under a lock): enough for one worker, and
stated as such in ``docs/api.md``; several workers each keep their own counts.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from openscore.errors import RateLimited

#: Keys tracked at most per limiter; beyond it the stalest are dropped first.
MAX_KEYS = 200_000


class SlidingWindow:
    """At most ``limit`` events per key within ``window`` seconds."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may try again, or ``None`` if it may now."""
        now = self._clock()
        with self._lock:
            events = self._recent(key, now)
            if events is None or len(events) < self.limit:
                return None
            # The oldest event that keeps the key at its limit must leave the window.
            oldest = events[len(events) - self.limit]
            return max(1, math.ceil(oldest + self.window - now))

    def hit(self, key: str) -> None:
        """Count one event for ``key``."""
        now = self._clock()
        with self._lock:
            events = self._recent(key, now)
            if events is None:
                if len(self._events) >= MAX_KEYS:
                    self._prune(now)
                events = self._events.setdefault(key, deque())
            events.append(now)
            while len(events) > self.limit:
                events.popleft()

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._events):
            self._recent(key, now)
        if len(self._events) >= MAX_KEYS:
            stalest = sorted(self._events, key=lambda k: self._events[k][-1])
            for key in stalest[: MAX_KEYS // 10]:
                del self._events[key]


class LoginLimiter:
    """Failures per login name and per client address (see the module docstring)."""

    def __init__(
        self,
        *,
        per_account: int,
        per_ip: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.accounts = SlidingWindow(per_account, window, clock=clock)
        self.addresses = SlidingWindow(per_ip, window, clock=clock)

    def check(self, login: str, address: str) -> None:
        """:class:`RateLimited` if either the login or the address is over its limit."""
        waits = [
            w
            for w in (self.accounts.retry_after(login), self.addresses.retry_after(address))
            if w is not None
        ]
        if waits:
            raise RateLimited(
                "too many failed log-ins: wait before trying again", retry_after=max(waits)
            )

    def failed(self, login: str, address: str) -> None:
        self.accounts.hit(login)
        self.addresses.hit(address)

    def succeeded(self, login: str) -> None:
        """A right password clears the login's failures (not the address's)."""
        self.accounts.reset(login)


class AttemptLimiter:
    """Every attempt counts (sign-ups: each costs a password hash whatever its outcome)."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = SlidingWindow(limit, window, clock=clock)

    def attempt(self, key: str, what: str) -> None:
        wait = self.window.retry_after(key)
        if wait is not None:
            raise RateLimited(f"too many {what}: wait before trying again", retry_after=wait)
        self.window.hit(key)
