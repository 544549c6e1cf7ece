# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one retry rule (_http/retry.py): Retry-After, backoff, what a status says, the deadline."""

from __future__ import annotations

import email.utils
import math

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import (
    BACKOFF_CEILING_SECONDS,
    NO_DEADLINE,
    RETRY_AFTER_LIMIT_SECONDS,
    Deadline,
    RetryPolicy,
    backoff_delay,
    header,
    may_have_been_carried_out,
    parse_retry_after,
)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize('value, expected', [
    ('2', 2.0),
    ('2.128', 2.128),
    (' 7 ', 7.0),
    ('-3', 0.0),
    ('soon', None),
    ('nan', None),
    ('', None),
    (None, None),
])
def test_parse_retry_after(value, expected):
    """Integers, Graph's decimals and padding are read; negatives wait 0; junk is ignored."""
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    """An HTTP date means the seconds from now until then."""
    when = email.utils.formatdate(1000.0 + 30, usegmt=True)
    assert parse_retry_after(when, now=1000.0) == pytest.approx(30.0)
    assert parse_retry_after(email.utils.formatdate(900.0, usegmt=True), now=1000.0) == 0.0


def test_header_lookup_ignores_case_on_plain_dicts():
    """$batch sub-responses carry plain dicts: Retry-After is found in any case."""
    assert header({'retry-after': '3'}, 'Retry-After') == '3'
    assert header({'RETRY-AFTER': 4}, 'retry-after') == '4'
    assert header({}, 'Retry-After') is None
    assert header(None, 'Retry-After') is None
    assert header(['not', 'a', 'mapping'], 'Retry-After') is None


def test_backoff_grows_exponentially_with_jitter_up_to_a_ceiling():
    """Half to all of 1, 2, 4, ... seconds, never above the ceiling."""
    assert backoff_delay(0, rng=lambda: 0.0) == 0.5
    assert backoff_delay(0, rng=lambda: 1.0) == 1.0
    assert backoff_delay(3, rng=lambda: 1.0) == 8.0
    assert backoff_delay(60, rng=lambda: 1.0) == BACKOFF_CEILING_SECONDS


@pytest.mark.parametrize('status, in_doubt', [(429, False), (503, False), (500, True), (502, True), (504, True), (409, False), (200, False)])
def test_which_statuses_may_have_been_carried_out(status, in_doubt):
    """Throttled (429) and unavailable (503) were not carried out; other 5xx may have been."""
    assert may_have_been_carried_out(status) is in_doubt


def test_deadline_counts_down_and_bounds_waits():
    """remaining() falls with the clock, never below zero; bound() shortens a wait to what is left."""
    clock = Clock()
    deadline = Deadline(10, clock=clock)
    assert deadline.remaining() == 10 and not deadline.expired
    clock.now += 4
    assert deadline.remaining() == 6 and deadline.bound(30) == 6 and deadline.bound(2) == 2
    clock.now += 60
    assert deadline.remaining() == 0.0 and deadline.expired


def test_no_deadline_never_expires():
    assert NO_DEADLINE.remaining() == math.inf and not NO_DEADLINE.expired and NO_DEADLINE.bound(7) == 7


@pytest.mark.parametrize('status', [429, 500, 502, 503, 504])
def test_retryable_statuses_honour_retry_after(status):
    """A retryable status waits what Retry-After says (any header case)."""
    decision = RetryPolicy(3).decide(0, NO_DEADLINE, status, {'retry-after': '2.128'})
    assert decision.retry and decision.delay == 2.128


@pytest.mark.parametrize('status', [200, 202, 400, 401, 403, 404, 409, 501])
def test_other_statuses_are_not_retried_and_give_no_reason(status):
    """A final answer is not retried, and there is nothing to explain."""
    decision = RetryPolicy(3).decide(0, NO_DEADLINE, status, {'Retry-After': '1'})
    assert not decision.retry and decision.reason == ''


def test_no_reply_is_retried_with_backoff():
    """A lost reply (status None) is retried after a backoff delay."""
    decision = RetryPolicy(3, rng=lambda: 1.0).decide(2, NO_DEADLINE)
    assert decision.retry and decision.delay == 4.0


def test_retries_stop_at_max_retries_and_say_so():
    decision = RetryPolicy(2).decide(2, NO_DEADLINE, 429, {'Retry-After': '0'})
    assert not decision.retry
    assert decision.reason == 'gave up after 3 attempt(s) (max_retries is 2)'
    assert not RetryPolicy(0).decide(0, NO_DEADLINE, 503).retry


def test_a_retry_after_at_the_limit_is_not_waited_for():
    """Kiota's rule: a server asking for 180 s or more is not waited for; the reason says to try later."""
    decision = RetryPolicy(5).decide(0, NO_DEADLINE, 429, {'Retry-After': str(int(RETRY_AFTER_LIMIT_SECONDS))})
    assert not decision.retry and 'try again later' in decision.reason and '180 s' in decision.reason
    assert RetryPolicy(5).decide(0, NO_DEADLINE, 429, {'Retry-After': '179'}).retry


def test_a_retry_that_would_pass_the_deadline_is_not_made():
    clock = Clock()
    deadline = Deadline(5, clock=clock)
    assert RetryPolicy(5).decide(0, deadline, 503, {'Retry-After': '4'}).retry
    decision = RetryPolicy(5).decide(0, deadline, 503, {'Retry-After': '5'})
    assert not decision.retry and 'deadline' in decision.reason and '5.0 s' in decision.reason
