# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one retry rule, for Graph replies, ``$batch`` sub-replies, Entra and the
managed identity endpoint alike, and the deadline that bounds it.

What a status says about the request (see the API notes):

- 429 and 503: throttled or unavailable; Graph's throttling guide says the request
  *failed*, so it was not carried out and is safe to send again.
- 500, 502 and 504: the service or a gateway failed; the request may or may not
  have been carried out (in doubt), and is retried all the same.
- A reply lost after the request was sent, and a read timeout: in doubt too.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

RETRYABLE_STATUSES = frozenset((429, 500, 502, 503, 504))
NOT_CARRIED_OUT_STATUSES = frozenset((429, 503))
# Kiota's rule (used by Microsoft's SDKs): a server asking for a longer wait than this is
# not waited for; the request fails and says when to try again.
RETRY_AFTER_LIMIT_SECONDS = 180.0
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CEILING_SECONDS = 30.0


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After value: integer, decimal (Graph sends
    ``2.128``) or HTTP date. None when absent or unreadable.

    Never below zero; ``inf`` (from ``inf``, ``Infinity``, ``1e999`` or a date far ahead)
    means "longer than anyone waits", which the retry rule refuses to wait for."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = _seconds_until(text, now)
        if seconds is None:
            return None
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def _seconds_until(text: str, now: Optional[float]) -> Optional[float]:
    """Seconds from ``now`` to the HTTP date ``text``; None when it is no date."""
    try:
        when = email.utils.parsedate_to_datetime(text)
        if when is None:
            return None
        return when.timestamp() - (time.time() if now is None else now)
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        # A year out of range, an offset of days, a timestamp the platform cannot hold.
        return None


def describe_seconds(seconds: float) -> str:
    """A wait for messages: ``300 s``, or words when the server asked for no sensible number."""
    if not math.isfinite(seconds):
        return 'an unbounded time'
    if seconds >= 86400 * 365:
        return 'more than a year'
    return '%d s' % seconds


def header(headers: Optional[Mapping[str, Any]], name: str) -> Optional[str]:
    """Case-insensitive header lookup on any mapping (batch sub-responses use plain dicts)."""
    if not headers or not hasattr(headers, 'items'):
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            return None if value is None else str(value)
    return None


def backoff_delay(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter for retry number ``attempt`` (0-based)."""
    ceiling = min(BACKOFF_CEILING_SECONDS, BACKOFF_BASE_SECONDS * (2 ** min(attempt, 16)))
    return ceiling * (0.5 + rng() / 2)


def may_have_been_carried_out(status: int) -> bool:
    """Whether a request answered ``status`` may still have been carried out."""
    return status >= 500 and status not in NOT_CARRIED_OUT_STATUSES


class Deadline:
    """A point in time (monotonic clock) that bounds every request and wait beneath it."""

    def __init__(self, seconds: Optional[float] = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.seconds = seconds
        self._start = clock()
        self._end = None if seconds is None else self._start + seconds
        # Set when a retry was not sent because its wait would pass this deadline (the run stopped before it expired).
        self.refused_retry = False

    def remaining(self) -> float:
        """Seconds left (infinite without a deadline, never below zero)."""
        if self._end is None:
            return math.inf
        return max(0.0, self._end - self._clock())

    def elapsed(self) -> float:
        """Seconds since the deadline was set (the real time spent under it)."""
        return self._clock() - self._start

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    @property
    def reached(self) -> bool:
        """Whether this deadline stopped something: it has passed, or a retry was not sent because of it."""
        return self.refused_retry or self.expired

    def bound(self, seconds: float) -> float:
        """``seconds``, shortened to what is left."""
        return min(seconds, self.remaining())


NO_DEADLINE = Deadline()


@dataclass(frozen=True)
class RetryDecision:
    """Whether to send again, after how long, and if not, why not (for the message)."""

    retry: bool
    delay: float = 0.0
    reason: str = ''


@dataclass(frozen=True)
class RetryPolicy:
    """Retry ``RETRYABLE_STATUSES`` and retryable transport failures up to ``max_retries``
    times, honouring ``Retry-After`` and the caller's deadline."""

    max_retries: int
    rng: Callable[[], float] = random.random

    def decide(self, attempt: int, deadline: Deadline, status: Optional[int] = None,
               headers: Optional[Mapping[str, Any]] = None) -> RetryDecision:
        """For the reply ``status`` (None: no reply) to attempt number ``attempt`` (0-based)."""
        if status is not None and status not in RETRYABLE_STATUSES:
            return RetryDecision(False)
        if attempt >= self.max_retries:
            return RetryDecision(False, reason='gave up after %d attempt(s) (max_retries is %d)' % (attempt + 1, self.max_retries))
        retry_after = parse_retry_after(header(headers, 'Retry-After'))
        if retry_after is not None and retry_after >= RETRY_AFTER_LIMIT_SECONDS:
            return RetryDecision(False, reason='the server asked to wait %s before retrying, longer than the %d s this collection waits; '
                                               'try again later' % (describe_seconds(retry_after), RETRY_AFTER_LIMIT_SECONDS))
        delay = retry_after if retry_after is not None else backoff_delay(attempt, self.rng)
        if delay >= deadline.remaining():
            deadline.refused_retry = True
            return RetryDecision(False, reason='the next retry (in %.1f s) would pass the deadline of the task' % delay)
        return RetryDecision(True, delay)
