# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import email.utils

import pytest
import requests

from ansible_collections.msgraph.migrations.plugins.module_utils import graph_client
from ansible_collections.msgraph.migrations.plugins.module_utils.errors import GraphTransportError
from ansible_collections.msgraph.migrations.plugins.module_utils.graph_client import (
    GraphClient,
    backoff_delay,
    parse_retry_after,
    retry_delay,
)
from ansible_collections.msgraph.migrations.plugins.module_utils.settings import GraphSettings


@pytest.mark.parametrize('value, expected', [
    ('2', 2.0),
    ('2.128', 2.128),
    (' 7 ', 7.0),
    ('-3', 0.0),
    ('soon', None),
    ('nan', None),
    (None, None),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    when = email.utils.formatdate(1000.0 + 30, usegmt=True)
    assert parse_retry_after(when, now=1000.0) == pytest.approx(30.0)


@pytest.mark.parametrize('status', [429, 503, 504])
def test_retry_delay_honours_retry_after_in_any_header_case(status):
    assert retry_delay(status, {'retry-after': '2.128'}, attempt=0) == 2.128
    assert retry_delay(status, {'Retry-After': '1'}, attempt=3) == 1.0


def test_retry_delay_caps_long_waits():
    assert retry_delay(429, {'Retry-After': '3600'}, attempt=0) == graph_client.RETRY_AFTER_CAP_SECONDS


@pytest.mark.parametrize('status', [200, 202, 400, 401, 403, 404, 409, 500])
def test_retry_delay_does_not_retry_other_statuses(status):
    assert retry_delay(status, {'Retry-After': '1'}, attempt=0) is None


def test_backoff_grows_exponentially_with_jitter():
    assert backoff_delay(0, rng=lambda: 0.0) == 0.5
    assert backoff_delay(0, rng=lambda: 1.0) == 1.0
    assert backoff_delay(3, rng=lambda: 1.0) == 8.0
    assert backoff_delay(30, rng=lambda: 1.0) == graph_client.RETRY_AFTER_CAP_SECONDS
    # without a header, a retryable status backs off
    assert 4.0 <= retry_delay(503, {}, attempt=3) <= 8.0


class FakeReply:
    def __init__(self, status, body=b'{}', headers=None):
        self.status_code = status
        self.content = body
        self.headers = requests.structures.CaseInsensitiveDict(headers or {})
        self.headers.setdefault('request-id', 'req-%d' % status)

    def json(self):
        import json
        return json.loads(self.content)

    @property
    def text(self):
        return self.content.decode()


class FakeTransport:
    """Plays back replies (or raises exceptions) and records what was sent."""

    def __init__(self, outcomes):
        self.outcomes = list(outcomes)
        self.sent = []

    def request(self, method, url, headers=None, json=None):
        self.sent.append(dict(method=method, url=url, headers=dict(headers)))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class FakeCredential:
    method = 'client_secret'
    can_refresh = True

    def __init__(self):
        self.calls = []

    def get_token(self, force_refresh=False):
        self.calls.append(force_refresh)
        return 'token-%d' % len(self.calls)


def make_client(outcomes, max_retries=3, credential=None):
    settings = GraphSettings(graph_endpoint='https://graph.example', authority_host='https://login.example',
                             api_version='v1.0', verify=True, timeout=5, max_retries=max_retries, auth_method='client_secret')
    transport = FakeTransport(outcomes)
    warnings, sleeps, secrets = [], [], []
    client = GraphClient(settings, credential or FakeCredential(), transport, warn=warnings.append,
                         register_secret=secrets.append, sleep=sleeps.append)
    return client, transport, warnings, sleeps, secrets


def test_send_builds_the_request_and_registers_the_token_as_secret():
    client, transport, warnings, sleeps, secrets = make_client([FakeReply(202, b'{"status": "Accepted"}')])
    reply = client.send('POST', '/solutions/x/cancel')
    assert reply.status == 202 and reply.ok and reply.body == {'status': 'Accepted'}
    sent = transport.sent[0]
    assert sent['url'] == 'https://graph.example/v1.0/solutions/x/cancel'
    assert sent['headers']['Authorization'] == 'Bearer token-1'
    assert len(sent['headers']['client-request-id']) == 36
    assert secrets == ['token-1'] and warnings == [] and sleeps == []


def test_throttling_is_retried_with_retry_after_and_a_warning_each_time():
    client, transport, warnings, sleeps, dummy = make_client([
        FakeReply(429, headers={'Retry-After': '2.128'}),
        FakeReply(503, headers={'Retry-After': '1'}),
        FakeReply(202),
    ])
    reply = client.send('POST', '/x/cancel')
    assert reply.status == 202
    assert sleeps == [2.128, 1.0]
    assert len(warnings) == 2 and '429' in warnings[0] and '503' in warnings[1]
    ids = {s['headers']['client-request-id'] for s in transport.sent}
    assert len(ids) == 3, 'every request carries a fresh client-request-id'
    assert reply.earlier_attempt_maybe_applied, 'Graph may have done the work and still answered 429'


def test_retries_stop_at_max_retries_and_return_the_last_reply():
    client, transport, warnings, sleeps, dummy = make_client([FakeReply(429, headers={'Retry-After': '0'})] * 3, max_retries=2)
    reply = client.send('GET', '/x')
    assert reply.status == 429
    assert len(transport.sent) == 3 and len(warnings) == 2


def test_lost_reply_is_retried_and_flagged_as_maybe_applied():
    client, transport, warnings, sleeps, dummy = make_client([requests.exceptions.ConnectionError('reset'), FakeReply(409)])
    reply = client.send('POST', '/x/cancel')
    assert reply.status == 409 and reply.earlier_attempt_maybe_applied
    assert len(transport.sent) == 2 and 'ConnectionError' in warnings[0]


@pytest.mark.parametrize('status', [429, 503, 504])
def test_retried_statuses_count_as_maybe_applied(status):
    client, *dummy = make_client([FakeReply(status, headers={'Retry-After': '0'}), FakeReply(409)])
    assert client.send('POST', '/x').earlier_attempt_maybe_applied


def test_a_first_reply_is_not_maybe_applied_and_refused_connections_never_are():
    client, *dummy = make_client([FakeReply(409)])
    assert not client.send('POST', '/x').earlier_attempt_maybe_applied
    refused = requests.exceptions.ConnectionError(
        requests.packages.urllib3.exceptions.MaxRetryError(None, '/x', requests.packages.urllib3.exceptions.NewConnectionError(None, 'refused')))
    client, *dummy = make_client([refused, FakeReply(409)])
    assert not client.send('POST', '/x').earlier_attempt_maybe_applied


def test_other_request_errors_never_quote_the_request():
    error = requests.exceptions.InvalidHeader("Invalid leading whitespace in header value: 'Bearer token-1\\n'")
    client, *dummy = make_client([error])
    with pytest.raises(GraphTransportError) as caught:
        client.send('POST', '/x/cancel')
    assert 'token-1' not in str(caught.value) and 'InvalidHeader' in str(caught.value)


def test_no_reply_at_all_fails_after_the_retries():
    client, transport, *dummy = make_client([requests.exceptions.ReadTimeout('slow')] * 3, max_retries=2)
    with pytest.raises(GraphTransportError, match='no reply from Graph after 3 attempt'):
        client.send('POST', '/x/cancel')
    assert len(transport.sent) == 3


def test_tls_errors_are_not_retried_and_point_at_ca_path():
    client, transport, *dummy = make_client([requests.exceptions.SSLError('certificate verify failed')])
    with pytest.raises(GraphTransportError, match='ca_path'):
        client.send('GET', '/x')
    assert len(transport.sent) == 1


def test_401_gets_one_fresh_token_and_one_retry():
    credential = FakeCredential()
    client, transport, warnings, dummy, secrets = make_client([FakeReply(401), FakeReply(401)], credential=credential)
    reply = client.send('GET', '/x')
    assert reply.status == 401, 'a second 401 is returned, not retried again'
    assert credential.calls == [False, True]
    assert [s['headers']['Authorization'] for s in transport.sent] == ['Bearer token-1', 'Bearer token-2']
    assert secrets == ['token-1', 'token-2']


def test_401_with_a_fixed_access_token_is_not_retried():
    credential = FakeCredential()
    credential.can_refresh = False
    client, transport, *dummy = make_client([FakeReply(401)], credential=credential)
    assert client.send('GET', '/x').status == 401
    assert len(transport.sent) == 1


def test_error_shape_and_non_json_bodies_are_parsed():
    body = b'{"error": {"code": "Conflict", "message": "Cancel is not possible. Current status is completed"}}'
    client, *dummy = make_client([FakeReply(409, body), FakeReply(500, b'<html>oops</html>', {'Content-Type': 'text/html'})])
    assert client.send('POST', '/x').error == ('Conflict', 'Cancel is not possible. Current status is completed')
    assert client.send('GET', '/x').error == (None, 'The reply was not JSON (text/html): <html>oops</html>')
    client, *dummy = make_client([FakeReply(502, b'{"unexpected": true}')])
    assert client.send('GET', '/x').error == (None, 'The reply was JSON without Graph\'s error object: {"unexpected": true}')
