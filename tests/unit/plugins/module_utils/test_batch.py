# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""JSON batching (_graph/batch.py): 20 sub-requests to an envelope, each retried by the one rule,
each ending with exactly one final answer (or the reason it has none) and the facts of its attempts."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import TransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._graph import batch as batch_module
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.batch import BatchRunner, SubRequest

from ansible_collections.msgraph.migrations.tests.unit.fakes import GRAPH, FakeTransport, GraphService, graph_error, make_client, reply

ACCEPTED = (202, {'Content-Type': 'application/json'}, {'status': 'Accepted'})
CONFLICT = (409, {}, graph_error('Conflict', 'Cancel is not possible.'))


def cancels(count):
    return [SubRequest(id='t%02d' % number, method='POST', url='/solutions/x/users/t%02d/cancel' % number) for number in range(count)]


def runner(service, concurrency=1, max_retries=3):
    """A BatchRunner over a real GraphClient and the fake Graph; its clock jumps 100 s per look, so held-back retries are due at once."""
    kit = make_client(FakeTransport(handler=service), max_retries=max_retries)
    ticks = itertools.count(0, 100)
    return BatchRunner(kit.client, concurrency, clock=lambda: next(ticks)), kit


def test_many_requests_go_20_to_an_envelope_with_urls_relative_to_the_version_root():
    service = GraphService()
    service.batch = lambda sub, attempt: ACCEPTED
    batch, kit = runner(service)
    results = batch.run(cancels(45))
    assert [len(envelope) for envelope in service.envelopes] == [20, 20, 5]
    assert kit.transport.urls == [GRAPH + '/v1.0/$batch'] * 3
    assert service.envelopes[0][0] == {'id': 't00', 'method': 'POST', 'url': '/solutions/x/users/t00/cancel'}
    assert sorted(results) == ['t%02d' % number for number in range(45)]
    assert all(result.status == 202 and result.attempts == 1 and not result.in_doubt and result.problem == '' for result in results.values())
    assert results['t07'].body == {'status': 'Accepted'} and batch.stats.envelopes == 3


def test_a_body_goes_with_its_content_type():
    service = GraphService()
    service.batch = lambda sub, attempt: (200, {}, {})
    batch, _kit = runner(service)
    batch.run([SubRequest(id='1', method='PATCH', url='/x', body={'a': 1})])
    assert service.envelopes[0][0] == {'id': '1', 'method': 'PATCH', 'url': '/x', 'body': {'a': 1},
                                       'headers': {'Content-Type': 'application/json'}}


def test_a_throttled_sub_request_is_sent_again_in_a_later_envelope():
    service = GraphService()
    service.batch = lambda sub, attempt: (429, {'retry-after': '0'}, graph_error('TooManyRequests', 'slow down')) if (
        sub['id'] == 't03' and attempt == 0) else ACCEPTED
    batch, _kit = runner(service)
    results = batch.run(cancels(5))
    assert [[sub['id'] for sub in envelope] for envelope in service.envelopes] == [['t00', 't01', 't02', 't03', 't04'], ['t03']]
    assert results['t03'].status == 202 and results['t03'].attempts == 2 and not results['t03'].in_doubt
    assert batch.stats.sub_retries == 1 and batch.stats.throttled == 1 and batch.stats.envelope_retries == 0


@pytest.mark.parametrize('first', [(500, {'Retry-After': '0'}, graph_error('InternalServerError', 'x')), None], ids=['500', 'missing'])
def test_a_sub_request_that_may_have_been_carried_out_is_in_doubt(first):
    """A 5xx other than 503, or an envelope without this sub-request's answer: the final 409 may be our own cancel."""
    service = GraphService()
    service.batch = lambda sub, attempt: first if attempt == 0 else CONFLICT
    batch, _kit = runner(service)
    result = batch.run(cancels(1))['t00']
    assert result.status == 409 and result.in_doubt and result.attempts == 2


def test_the_first_attempts_time_is_kept(monkeypatch):
    """The evidence rule compares a task's lastUpdatedDateTime with when the first attempt was sent."""
    wall = itertools.count(1000, 1000)
    monkeypatch.setattr(batch_module.time, 'time', lambda: next(wall))
    service = GraphService()
    service.batch = lambda sub, attempt: (503, {'Retry-After': '0'}, {}) if attempt == 0 else CONFLICT
    batch, _kit = runner(service)
    result = batch.run(cancels(1))['t00']
    assert result.attempts == 2 and result.first_sent_at == 1000


def test_a_conflict_is_final_on_its_first_attempt():
    service = GraphService()
    service.batch = lambda sub, attempt: CONFLICT
    batch, _kit = runner(service)
    result = batch.run(cancels(1))['t00']
    assert result.status == 409 and result.attempts == 1 and result.body['error']['code'] == 'Conflict'


def test_retries_run_out_with_the_last_answer_and_the_reason():
    service = GraphService()
    service.batch = lambda sub, attempt: (429, {'Retry-After': '0'}, {})
    batch, _kit = runner(service, max_retries=2)
    result = batch.run(cancels(1))['t00']
    assert result.status == 429 and result.attempts == 3 and result.problem == 'gave up after 3 attempt(s) (max_retries is 2)'


def test_a_throttled_envelope_sends_all_its_sub_requests_again():
    service = GraphService()
    service.on('POST', '/$batch', reply(503, {}, headers={'Retry-After': '0'}),
               reply(200, {'responses': [{'id': 't00', 'status': 202, 'headers': {}, 'body': {}},
                                         {'id': 't01', 'status': 202, 'headers': {}, 'body': {}}]}))
    batch, kit = runner(service)
    results = batch.run(cancels(2))
    assert len(kit.transport.sent) == 2 and batch.stats.envelope_retries == 1
    assert all(result.status == 202 and result.attempts == 2 and not result.in_doubt for result in results.values())


def test_a_lost_envelope_leaves_every_sub_request_in_doubt():
    service = GraphService()
    service.on('POST', '/$batch', TransportError(TransportError.LOST, 'graph.example', 'lost', may_have_reached=True),
               reply(200, {'responses': [{'id': 't00', 'status': 409, 'headers': {}, 'body': graph_error('Conflict', 'x')}]}))
    batch, _kit = runner(service)
    result = batch.run(cancels(1))['t00']
    assert result.status == 409 and result.in_doubt and result.attempts == 2


def test_an_envelope_that_cannot_be_sent_is_not_retried_and_says_why():
    tls = TransportError(TransportError.TLS, 'graph.example', 'the TLS connection to graph.example failed (certificate verify failed)',
                         may_have_reached=False)
    kit = make_client(FakeTransport(tls))
    results = BatchRunner(kit.client, 1).run(cancels(3))
    assert len(kit.transport.sent) == 1
    for result in results.values():
        assert result.status is None and result.attempts == 1 and not result.in_doubt
        assert 'certificate verify failed' in result.problem and 'ca_path' in result.problem


def test_an_envelope_refused_for_good_gives_no_answer_and_is_not_in_doubt():
    service = GraphService().on('POST', '/$batch', reply(400, graph_error('BadRequest', 'Invalid batch payload')))
    batch, _kit = runner(service)
    result = batch.run(cancels(1))['t00']
    assert result.status is None and not result.in_doubt
    assert result.problem == 'the $batch request was answered HTTP 400 BadRequest: Invalid batch payload'


def test_malformed_sub_responses_are_ignored_and_retried():
    """A sub-response without an id or with a non-integer status is no answer."""
    answers = iter([
        reply(200, {'responses': [{'id': 't00', 'status': '202'}, {'status': 202}, 'junk', {'id': 't00', 'status': True}]}),
        reply(200, {'responses': [{'id': 't00', 'status': 202, 'headers': {'request-id': 'sub-rid'}, 'body': {}}]}),
    ])
    kit = make_client(FakeTransport(handler=lambda sent: next(answers)))
    ticks = itertools.count(0, 100)
    result = BatchRunner(kit.client, 1, clock=lambda: next(ticks)).run(cancels(1))['t00']
    assert result.status == 202 and result.in_doubt and result.request_id == 'sub-rid'


def test_envelopes_in_flight_never_exceed_the_concurrency():
    in_flight, most = [0], [0]
    lock = threading.Lock()

    def answer(sub, attempt):
        return ACCEPTED

    service = GraphService()
    service.batch = answer

    def slow(sent):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.05)
        try:
            return service(sent)
        finally:
            with lock:
                in_flight[0] -= 1

    kit = make_client(FakeTransport(handler=slow))
    results = BatchRunner(kit.client, 2).run(cancels(200))
    assert len(results) == 200 and all(result.status == 202 for result in results.values())
    assert len(service.envelopes) == 10 and most[0] <= 2


def test_nothing_to_send_sends_nothing():
    kit = make_client(FakeTransport())
    assert BatchRunner(kit.client).run([]) == {} and kit.transport.sent == []
