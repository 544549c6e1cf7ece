# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The $batch runner against replies it must not trust (duplicate, contradictory, extra answers), a token
that cannot be renewed after a 401, a bug in the middle of a run, and the caller's deadline."""

from __future__ import annotations

import itertools

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import AuthenticationError
from ansible_collections.msgraph.migrations.plugins.module_utils._graph import batch as batch_module
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.batch import BatchRunner, SubRequest
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import ThrottleGate
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline, RetryPolicy

from ansible_collections.msgraph.migrations.tests.unit.fakes import FakeClock, FakeCredential, FakeTransport, graph_error, make_client, reply

CONFLICT_BODY = graph_error('Conflict', 'Cancel is not possible.')


def cancels(count):
    return [SubRequest(id='t%02d' % number, method='POST', url='/solutions/x/users/t%02d/cancel' % number) for number in range(count)]


def entry(sub_id, status, body=None):
    return {'id': sub_id, 'status': status, 'headers': {}, 'body': {} if body is None else body}


def envelope(*entries):
    return reply(200, {'responses': list(entries)})


def runner_over(*outcomes, max_retries=3, credential=None, clock=None):
    kit = make_client(FakeTransport(*outcomes), credential=credential, max_retries=max_retries)
    if clock is None:
        ticks = itertools.count(0, 100)
        return BatchRunner(kit.client, 1, clock=lambda: next(ticks)), kit
    kit.client.gate = ThrottleGate(clock.sleep, clock)
    return BatchRunner(kit.client, 1, sleep=clock.sleep, clock=clock), kit


def test_identical_duplicates_are_one_answer():
    batch, kit = runner_over(envelope(entry('t00', 202), entry('t00', 202), entry('t01', 409, CONFLICT_BODY)))
    results = batch.run(cancels(2))
    assert len(kit.transport.sent) == 1
    assert results['t00'].status == 202 and not results['t00'].in_doubt and results['t00'].notes == []


def test_duplicate_errors_with_one_code_are_one_answer_whatever_their_messages():
    """Two 409 Conflict answers whose message, date and request-id differ say the same: no resend."""
    batch, kit = runner_over(envelope(entry('t00', 409, graph_error('Conflict', 'Cancel is not possible.')),
                                      entry('t00', 409, graph_error('Conflict', 'Another wording, another request-id.'))))
    result = batch.run(cancels(1))['t00']
    assert len(kit.transport.sent) == 1 and result.status == 409 and not result.in_doubt and result.notes == []


def test_duplicate_errors_with_different_codes_contradict():
    batch, kit = runner_over(envelope(entry('t00', 409, graph_error('Conflict', 'x')), entry('t00', 409, graph_error('Other', 'x'))),
                             envelope(entry('t00', 409, CONFLICT_BODY)))
    result = batch.run(cancels(1))['t00']
    assert len(kit.transport.sent) == 2 and result.in_doubt and 'contradictory answers' in result.notes[0]


def test_contradictory_duplicates_are_in_doubt_and_sent_again():
    """202 then 409 for the same id: neither is taken; the retry's answer is final, and the doubt is kept and noted."""
    batch, kit = runner_over(envelope(entry('t00', 202), entry('t00', 409, CONFLICT_BODY)), envelope(entry('t00', 409, CONFLICT_BODY)))
    result = batch.run(cancels(1))['t00']
    assert len(kit.transport.sent) == 2 and result.attempts == 2
    assert result.status == 409 and result.in_doubt
    assert result.notes and 'contradictory answers' in result.notes[0] and 'HTTP 202, HTTP 409' in result.notes[0]


def test_a_malformed_twin_of_an_answer_leaves_it_in_doubt():
    batch, _kit = runner_over(envelope(entry('t00', 202), {'id': 't00', 'status': '409'}), envelope(entry('t00', 409, CONFLICT_BODY)))
    result = batch.run(cancels(1))['t00']
    assert result.status == 409 and result.in_doubt and 'malformed' in result.notes[0]


def test_contradictions_until_retries_run_out_give_no_answer_and_say_why():
    twice = envelope(entry('t00', 202), entry('t00', 404, graph_error('ResourceNotFound', 'x')))
    batch, kit = runner_over(twice, twice, max_retries=1)
    result = batch.run(cancels(1))['t00']
    assert len(kit.transport.sent) == 2 and result.status is None and result.in_doubt
    assert 'contradictory answers' in result.problem and 'gave up after 2 attempt(s)' in result.problem


def test_answers_for_ids_nobody_asked_for_are_ignored():
    batch, kit = runner_over(envelope(entry('zz', 409, CONFLICT_BODY), entry('t00', 202), entry('t01', 202), entry('T00', 500)))
    results = batch.run(cancels(2))
    assert len(kit.transport.sent) == 1 and sorted(results) == ['t00', 't01']
    assert all(result.status == 202 and not result.in_doubt for result in results.values())


def test_statuses_that_are_no_http_status_are_malformed():
    batch, _kit = runner_over(envelope(entry('t00', 99)), envelope(entry('t00', 202)))
    result = batch.run(cancels(1))['t00']
    assert result.status == 202 and result.attempts == 2 and result.in_doubt


def test_a_401_envelope_whose_token_refresh_fails_was_sent_and_the_rest_was_not():
    """The envelope reached Graph (which refused it): sent, not in doubt; the envelopes never sent say so."""
    refused = AuthenticationError('client_secret', 'login.example', 401, 'AADSTS7000215', 'invalid_client', 'Invalid client secret.')
    credential = FakeCredential()
    answers = iter([reply(401, graph_error('InvalidAuthenticationToken', 'Lifetime validation failed'))])

    def token(force_refresh=False, deadline=None):
        credential.calls.append(force_refresh)
        if force_refresh:
            raise refused
        return 'token-1'

    credential.get_token = token
    kit = make_client(FakeTransport(handler=lambda sent: next(answers)), credential=credential)
    results = BatchRunner(kit.client, 1).run(cancels(25))
    assert len(kit.transport.sent) == 1
    first, rest = [results['t%02d' % n] for n in range(20)], [results['t%02d' % n] for n in range(20, 25)]
    assert all(r.reached and not r.in_doubt and r.status is None for r in first)
    assert all(r.problem.startswith('sent, but Graph refused the $batch request with 401') and 'AADSTS7000215' in r.problem for r in first)
    assert all(not r.reached and r.attempts == 0 and r.problem.startswith('not sent, because Authentication') for r in rest)


def test_a_bug_in_the_middle_reports_every_task_and_stops(monkeypatch):
    """An exception nobody expected does not lose the results of the envelopes already answered."""
    real, calls = batch_module._answers, []

    def answers_then_a_bug(body):
        calls.append(body)
        if len(calls) == 2:
            raise KeyError('a bug')
        return real(body)

    monkeypatch.setattr(batch_module, '_answers', answers_then_a_bug)
    answers = iter([envelope(*[entry('t%02d' % n, 202) for n in range(20)]), envelope(entry('t20', 202))])
    kit = make_client(FakeTransport(handler=lambda sent: next(answers)))
    results = BatchRunner(kit.client, 1).run(cancels(45))
    assert len(kit.transport.sent) == 2
    assert all(results['t%02d' % n].status == 202 for n in range(20))
    assert all('unexpected KeyError' in results['t%02d' % n].problem and results['t%02d' % n].in_doubt for n in range(20, 40))
    assert all(results['t%02d' % n].problem.startswith('not sent, because an unexpected') for n in range(40, 45))


def test_nothing_is_sent_once_the_deadline_has_passed():
    clock = FakeClock()
    batch, kit = runner_over(clock=clock)
    results = batch.run(cancels(3), Deadline(0, clock=clock))
    assert kit.transport.sent == []
    assert all(r.problem == "the task's deadline passed before it was sent" and not r.reached and r.attempts == 0 for r in results.values())


def test_a_held_back_retry_is_not_sent_after_the_deadline_and_keeps_its_facts():
    """A slow server (2.5 s an envelope), a deadline of 5 s: t00's retry after its 500 (backoff 1 s) is due at 3.5 s, but
    the second envelope ends at 5 s; it is not sent again, keeps its doubt and says what its last attempt met."""
    clock = FakeClock()

    def slow(sent):
        clock.now += 2.5
        ids = [sub['id'] for sub in sent.json_body['requests']]
        return reply(200, {'responses': [entry(sub_id, 500) if sub_id == 't00'
                                         else entry(sub_id, 202) for sub_id in ids]})

    kit = make_client(FakeTransport(handler=slow))
    kit.client.gate = ThrottleGate(clock.sleep, clock)
    kit.client.policy = RetryPolicy(3, rng=lambda: 1.0)
    results = BatchRunner(kit.client, 1, sleep=clock.sleep, clock=clock).run(cancels(25), Deadline(5, clock=clock))
    assert len(kit.transport.sent) == 2 and clock.now <= 5
    assert all(results['t%02d' % n].status == 202 for n in range(1, 25))
    held = results['t00']
    assert held.status is None and held.attempts == 1 and held.reached and held.in_doubt
    assert held.problem == "the task's deadline passed before it could be sent again (the last attempt met: HTTP 500)"


def test_a_final_gateway_error_is_in_doubt():
    batch, _kit = runner_over(envelope(entry('t00', 504)), max_retries=0)
    result = batch.run(cancels(1))['t00']
    assert result.status == 504 and result.in_doubt


def test_a_throttle_wait_never_runs_past_the_deadline():
    """Retry-After 3, deadline 2: not retried (the reason says so), and nothing slept."""
    clock = FakeClock()
    batch, kit = runner_over(reply(200, {'responses': [{'id': 't00', 'status': 429, 'headers': {'Retry-After': '3'}, 'body': {}}]}),
                             clock=clock)
    result = batch.run(cancels(1), Deadline(2, clock=clock))['t00']
    assert len(kit.transport.sent) == 1 and clock.sleeps == [] and result.status == 429
    assert 'would pass the deadline' in result.problem
