# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The retry rule under absurd Retry-After values (non-finite, negative, NaN, dates far ahead):
never a crash, never a hang; Graph's client and msal's http_client give up and say why."""

from __future__ import annotations

import math

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._auth.entra_http import EntraHttpClient
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import (
    NO_DEADLINE,
    Deadline,
    RetryPolicy,
    describe_seconds,
    parse_retry_after,
)

from ansible_collections.msgraph.migrations.tests.unit.fakes import FakeTransport, graph_error, make_client, reply

UNBOUNDED = ['inf', 'Infinity', '1e999', '+inf', 'INF', '9' * 400]
FAR_AHEAD = ['Fri, 31 Dec 9999 23:59:59 GMT', '1e300', '99999999999999999999']


@pytest.mark.parametrize('value', UNBOUNDED)
def test_a_non_finite_retry_after_means_forever(value):
    assert parse_retry_after(value) == math.inf


@pytest.mark.parametrize('value, expected', [
    ('-inf', 0.0), ('-1e999', 0.0), ('-5', 0.0), ('nan', None), ('NaN', None), ('-nan', None),
    ('Fri, 31 Dec 99999 23:59:59 GMT', None), ('Mon, 01 Jan 2001 00:00:00 +9999', None), ('0x10', None), ('\x00', None),
])
def test_negative_nan_and_impossible_dates_never_raise(value, expected):
    assert parse_retry_after(value, now=1000.0) == expected


@pytest.mark.parametrize('value', UNBOUNDED + FAR_AHEAD)
@pytest.mark.parametrize('status', [429, 503, 504])
def test_an_absurd_wait_is_not_waited_for_and_says_so(value, status):
    """Too long to wait, not retried: the reason is readable (no 400-digit number, no OverflowError)."""
    decision = RetryPolicy(5).decide(0, NO_DEADLINE, status, {'Retry-After': value})
    assert not decision.retry
    assert 'longer than the 180 s this collection waits; try again later' in decision.reason
    assert len(decision.reason) < 200


@pytest.mark.parametrize('value', ['-inf', '-1e999', 'nan'])
def test_a_negative_or_nan_wait_retries_at_once_or_backs_off(value):
    decision = RetryPolicy(5, rng=lambda: 1.0).decide(0, Deadline(10), 429, {'Retry-After': value})
    assert decision.retry and 0.0 <= decision.delay <= 1.0


# Parameters, not literals in the call: pylint's inference of describe_seconds(math.inf) itself overflows.
@pytest.mark.parametrize('seconds, words', [(300.0, '300 s'), (math.inf, 'an unbounded time'), (1e300, 'more than a year')])
def test_describe_seconds(seconds, words):
    assert describe_seconds(seconds) == words


@pytest.mark.parametrize('value', ['1e999', 'Infinity', 'inf'])
def test_graph_client_gives_up_on_a_single_request_with_the_reason(value):
    """The job cancel path: one request answered 429 with a non-finite Retry-After, not retried."""
    kit = make_client(FakeTransport(reply(429, graph_error('TooManyRequests', 'slow down'), headers={'Retry-After': value})))
    answer = kit.client.request('POST', '/solutions/x/cancel')
    assert answer.status == 429 and answer.attempts == 1 and kit.sleeps == []
    assert 'asked to wait an unbounded time' in answer.gave_up


@pytest.mark.parametrize('value', ['1e999', 'Infinity', 'Fri, 31 Dec 9999 23:59:59 GMT'])
def test_entra_http_client_gives_up_and_keeps_the_refusal(value):
    """Entra ID and the managed identity endpoint go through the same rule: the reply is returned, the reason kept."""
    transport = FakeTransport(reply(429, {'error': 'temporarily_unavailable'}, headers={'Retry-After': value}))
    sleeps: list[float] = []
    http = EntraHttpClient(transport, RetryPolicy(3), Redactor(), lambda message: None, sleep=sleeps.append)
    answer = http.post('https://login.example/tenant/oauth2/v2.0/token', data={'client_id': 'x'})
    assert answer.status_code == 429 and sleeps == [] and len(transport.sent) == 1
    assert http.last_refusal is not None and 'try again later' in http.last_refusal.gave_up
    answer = EntraHttpClient(FakeTransport(reply(503, {'statusCode': 503, 'message': 'busy'}, headers={'Retry-After': value})),
                             RetryPolicy(3), Redactor(), lambda message: None, sleep=sleeps.append).get('https://127.0.0.1/msi/token')
    assert answer.status_code == 503 and sleeps == []
