# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Graph request path (_graph/client.py): what is sent, what is retried, what an attempt
may have done, token refresh, replies that are not Graph's, paging and the throttle gate."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, TransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import (
    GraphClient,
    GraphTransportError,
    ThrottleGate,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline

from ansible_collections.msgraph.migrations.tests.unit.fakes import (
    GRAPH,
    FakeCredential,
    FakeTransport,
    graph_error,
    make_client,
    make_settings,
    reply,
)

CONFLICT = graph_error('Conflict', 'Cancel is not possible. Current status is completed')


def lost():
    return TransportError(TransportError.LOST, 'graph.example', 'the connection to graph.example was lost', may_have_reached=True)


def refused():
    return TransportError(TransportError.CONNECT, 'graph.example', 'could not connect to graph.example', may_have_reached=False)


def test_a_request_is_sent_with_the_token_a_fresh_client_request_id_and_json():
    kit = make_client(FakeTransport(reply(202, {'status': 'Accepted'})))
    answer = kit.client.request('POST', '/solutions/x/cancel')
    assert answer.status == 202 and answer.ok and answer.body == {'status': 'Accepted'} and answer.request_id == 'rid-202'
    assert answer.attempts == 1 and not answer.in_doubt and answer.first_sent_at > 0
    sent = kit.transport.sent[0]
    assert sent.method == 'POST' and sent.url == GRAPH + '/v1.0/solutions/x/cancel'
    assert sent.headers['Authorization'] == 'Bearer token-1' and sent.headers['Accept'] == 'application/json'
    assert len(sent.headers['client-request-id']) == 36
    assert kit.warnings == [] and kit.sleeps == []


def test_beta_is_used_when_asked():
    kit = make_client(FakeTransport(reply(200, {})), api_version='beta')
    kit.client.request('GET', '/solutions/x')
    assert kit.transport.urls == [GRAPH + '/beta/solutions/x']


def test_throttling_is_retried_with_retry_after_and_a_warning_each_time():
    kit = make_client(FakeTransport(reply(429, {}, headers={'Retry-After': '2.128'}), reply(503, {}, headers={'Retry-After': '1'}),
                                    reply(202, {})))
    answer = kit.client.request('POST', '/x/cancel')
    assert answer.status == 202 and answer.attempts == 3
    assert kit.sleeps[:1] == [2.128] and 1.0 in kit.sleeps
    assert len(kit.warnings) == 2
    assert kit.warnings[0] == 'POST /x/cancel was answered 429; retry 1 of 3 in 2.1 s.'
    assert len({sent.headers['client-request-id'] for sent in kit.transport.sent}) == 3, 'every attempt has its own client-request-id'
    assert not answer.in_doubt, 'Graph did not carry out a throttled request'


@pytest.mark.parametrize('status', [500, 502, 504])
def test_a_retried_gateway_error_leaves_a_post_in_doubt(status):
    kit = make_client(FakeTransport(reply(status, {}, headers={'Retry-After': '0'}), reply(409, CONFLICT)))
    answer = kit.client.request('POST', '/x/cancel')
    assert answer.status == 409 and answer.in_doubt


def test_retries_stop_at_max_retries_and_return_the_last_reply_with_the_reason():
    kit = make_client(FakeTransport(*[reply(503, {}, headers={'Retry-After': '0'})] * 3), max_retries=2)
    answer = kit.client.request('POST', '/x/cancel')
    assert answer.status == 503 and len(kit.transport.sent) == 3 and len(kit.warnings) == 2
    assert answer.gave_up == 'gave up after 3 attempt(s) (max_retries is 2)' and not answer.in_doubt


def test_a_final_gateway_error_on_a_post_is_in_doubt_but_not_on_a_get():
    kit = make_client(FakeTransport(reply(502, {}), reply(502, {})), max_retries=0)
    assert kit.client.request('POST', '/x/cancel').in_doubt
    assert not kit.client.request('GET', '/x').in_doubt


def test_a_lost_reply_is_retried_and_leaves_a_post_in_doubt():
    kit = make_client(FakeTransport(lost(), reply(409, CONFLICT)))
    answer = kit.client.request('POST', '/x/cancel')
    assert answer.status == 409 and answer.in_doubt and answer.attempts == 2
    assert kit.warnings == ['POST /x/cancel got no usable reply (lost); retry 1 of 3 in %.1f s.' % kit.sleeps[0]]


def test_a_lost_read_is_not_in_doubt_and_a_refused_connection_never_is():
    kit = make_client(FakeTransport(lost(), reply(200, {})))
    assert not kit.client.request('GET', '/x').in_doubt
    kit = make_client(FakeTransport(refused(), reply(409, CONFLICT)))
    assert not kit.client.request('POST', '/x/cancel').in_doubt


def test_no_usable_reply_at_all_fails_after_the_retries():
    kit = make_client(FakeTransport(lost(), lost(), lost()), max_retries=2)
    with pytest.raises(GraphTransportError) as caught:
        kit.client.request('POST', '/x/cancel')
    error = caught.value
    assert error.in_doubt and error.attempts == 3 and len(kit.transport.sent) == 3
    assert error.message.startswith('POST /x/cancel: the connection to graph.example was lost, after 3 attempts '
                                    '(gave up after 3 attempt(s) (max_retries is 2)).')
    assert error.result['error'] == dict(kind='lost', host='graph.example', status=None, code=None)


@pytest.mark.parametrize('kind, hint', [
    (TransportError.TLS, 'point ca_path at that CA bundle'),
    (TransportError.REDIRECT, 'Check graph_endpoint and any proxy'),
    (TransportError.TOO_LARGE, ''),
])
def test_failures_that_will_not_change_are_not_retried(kind, hint):
    kit = make_client(FakeTransport(TransportError(kind, 'graph.example', 'it failed', may_have_reached=False)))
    with pytest.raises(GraphTransportError) as caught:
        kit.client.request('GET', '/x')
    assert len(kit.transport.sent) == 1 and hint in caught.value.message and caught.value.attempts == 1


def test_no_retry_when_the_caller_asks_for_none():
    kit = make_client(FakeTransport(reply(429, {}, headers={'Retry-After': '1'})))
    answer = kit.client.request('POST', '/$batch', retry=False, quiet=True)
    assert answer.status == 429 and len(kit.transport.sent) == 1 and kit.warnings == [] and answer.gave_up == ''


def test_a_401_gets_one_fresh_token_and_one_more_try():
    credential = FakeCredential()
    kit = make_client(FakeTransport(reply(401, {}), reply(401, {})), credential=credential)
    answer = kit.client.request('GET', '/x')
    assert answer.status == 401, 'a second 401 is returned, not retried again'
    assert credential.calls == [False, True]
    assert [sent.headers['Authorization'] for sent in kit.transport.sent] == ['Bearer token-1', 'Bearer token-2']
    assert kit.warnings == ['GET /x was refused with 401; retried once with a new token.']


def test_the_token_is_fetched_once_and_reused():
    credential = FakeCredential()
    kit = make_client(FakeTransport(reply(200, {}), reply(200, {})), credential=credential)
    kit.client.request('GET', '/a')
    kit.client.request('GET', '/b')
    assert credential.calls == [False]


def test_a_401_with_a_fixed_access_token_is_not_retried():
    kit = make_client(FakeTransport(reply(401, {})), credential=FakeCredential(can_refresh=False))
    assert kit.client.request('GET', '/x').status == 401 and len(kit.transport.sent) == 1


def test_graphs_error_shape_is_read():
    kit = make_client(FakeTransport(reply(409, CONFLICT)))
    answer = kit.client.request('POST', '/x/cancel')
    assert answer.graph_error == ('Conflict', 'Cancel is not possible. Current status is completed')
    assert answer.describe() == 'HTTP 409 Conflict: Cancel is not possible. Current status is completed'
    assert answer.error_fields() == {'code': 'Conflict', 'message': 'Cancel is not possible. Current status is completed'}


def test_a_reply_that_is_not_json_is_described_and_scrubbed():
    """A proxy's HTML page: the note says so, in one line, without a registered secret or a token shape."""
    redactor = Redactor()
    redactor.add('registered-secret-value')
    page = b'<html>\n<b>Blocked</b> registered-secret-value Bearer abcdefghijklmnop</html>'
    kit = make_client(FakeTransport(reply(500, raw=page, headers={'Content-Type': 'text/html; charset=utf-8'})), redactor=redactor,
                      max_retries=0)
    answer = kit.client.request('GET', '/x')
    assert not answer.is_json and answer.body == page.decode() and answer.graph_error is None
    assert answer.body_note == 'the reply was not JSON (text/html): <html> <b>Blocked</b> ******** Bearer ********</html>'
    assert answer.describe() == 'HTTP 500 (%s)' % answer.body_note
    assert answer.error_fields() == {'code': None, 'message': answer.body_note}


def test_an_empty_body_is_none_and_not_noted():
    """No body at all (a 202 may have none) is told apart from a body that is not JSON."""
    answer = make_client(FakeTransport(reply(202, raw=b'  '))).client.request('POST', '/x/cancel')
    assert answer.body is None and not answer.is_json and answer.body_note == ''


def test_json_in_another_shape_is_noted():
    kit = make_client(FakeTransport(reply(502, {'unexpected': True}), reply(200, ['a', 'list'])), max_retries=0)
    assert kit.client.request('GET', '/x').body_note == 'the reply was JSON but not in Graph\'s shape: {"unexpected": true}'
    assert kit.client.request('GET', '/x').body_note == 'the reply was JSON but not in Graph\'s shape: ["a", "list"]'


def test_paging_follows_next_links_on_graphs_own_host():
    first = reply(200, {'value': [1, 2], '@odata.nextLink': GRAPH + '/v1.0/things?$skiptoken=a'})
    second = reply(200, {'value': [3]})
    kit = make_client(FakeTransport(first, second))
    items, last = kit.client.list_all('/things')
    assert items == [1, 2, 3] and last.ok
    assert kit.transport.urls == [GRAPH + '/v1.0/things', GRAPH + '/v1.0/things?$skiptoken=a']


@pytest.mark.parametrize('link', [
    'https://evil.example/v1.0/things?$skiptoken=a',
    'http://graph.example/v1.0/things',
    'https://graph.example@evil.example/v1.0/things',
    'https://graph.example/beta/things',
    'https://graph.example:8443/v1.0/things',
])
def test_a_next_link_elsewhere_is_not_followed(link):
    """The bearer token goes only to Graph's own scheme, host and version root."""
    kit = make_client(FakeTransport(reply(200, {'value': [1], '@odata.nextLink': link})))
    with pytest.raises(GraphMigrationsError, match='it was not followed'):
        kit.client.list_all('/things')
    assert len(kit.transport.sent) == 1


def test_a_next_link_loop_is_stopped():
    link = GRAPH + '/v1.0/things?$skiptoken=a'
    kit = make_client(FakeTransport(reply(200, {'value': [1], '@odata.nextLink': link}), reply(200, {'value': [2], '@odata.nextLink': link})))
    with pytest.raises(GraphMigrationsError, match='not a new absolute URL'):
        kit.client.list_all('/things')


def test_a_failed_page_ends_the_listing_with_its_reply():
    kit = make_client(FakeTransport(reply(200, {'value': [1], '@odata.nextLink': GRAPH + '/v1.0/t?s=1'}), reply(404, graph_error('NotFound', 'x'))))
    items, last = kit.client.list_all('/t')
    assert items == [1] and last.status == 404


def test_a_page_that_is_not_a_collection_fails():
    kit = make_client(FakeTransport(reply(200, {'id': 'not a page'})))
    with pytest.raises(GraphMigrationsError, match='not a page of a collection'):
        kit.client.list_all('/t')


def test_a_throttled_request_holds_every_sender_back():
    """While one thread waits out a 429's Retry-After, another thread's request waits too before it is sent."""
    events = []
    a_sleeping, b_done = threading.Event(), threading.Event()

    def sleep(seconds):
        events.append(('sleep', threading.current_thread().name, seconds))
        if threading.current_thread().name == 'sender-a':
            a_sleeping.set()
            b_done.wait(10)

    def handler(sent):
        events.append(('send', sent.path))
        if sent.path == '/v1.0/a' and len([event for event in events if event == ('send', '/v1.0/a')]) == 1:
            return reply(429, {}, headers={'Retry-After': '5'})
        return reply(200, {})

    client = GraphClient(make_settings(), FakeCredential(), FakeTransport(handler=handler), Redactor(), lambda message: None, sleep=sleep)
    client.gate = ThrottleGate(sleep=sleep, clock=lambda: 0.0)
    sender_a = threading.Thread(target=client.request, args=('GET', '/a'), name='sender-a')
    sender_a.start()
    try:
        assert a_sleeping.wait(10)
        client.request('GET', '/b')
    finally:
        b_done.set()
        sender_a.join(10)
    b_events = events[events.index(('send', '/v1.0/a')) + 1:]
    assert b_events.index(('sleep', threading.current_thread().name, 5.0)) < b_events.index(('send', '/v1.0/b'))


def test_the_throttle_gate_waits_for_the_longest_hold_within_the_deadline():
    gate_sleeps = []
    clock = [0.0]
    gate = ThrottleGate(sleep=gate_sleeps.append, clock=lambda: clock[0])
    gate.hold(5)
    gate.hold(2)
    clock[0] = 1.0
    gate.wait(Deadline())
    assert gate_sleeps == [4.0]
    gate.wait(Deadline(1.5, clock=lambda: clock[0]))
    assert gate_sleeps == [4.0, 1.5]
    clock[0] = 9.0
    gate.wait(Deadline())
    assert gate_sleeps == [4.0, 1.5]
