# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A property-based test of bulk cancel through ``$batch`` (TaskCanceller.cancel_many, so the 409
settling is included) against a simulated Graph whose envelopes misbehave in generated ways:
missing, extra, duplicate (identical or contradictory) and malformed sub-responses, throttling with
any Retry-After (non-finite ones included), gateway errors, replies lost before or after the work,
401s (with a token refresh that may fail), a slow server, and the caller's deadline.

The simulated server keeps each task's state (cancellable, pendingCancel, cancelled, blocked, not in
the job) and whether this run's cancel was carried out. Time is a fake clock that only sleeping and
the server's latency move. For every generated run:

- no cancel is sent again for a task after the runner was told, in a reply it could trust, that one
  was accepted (so no task is cancelled twice);
- every task is reported once, in order, with an outcome and a message;
- a report says ``cancelled`` only when the server shows this run's cancel, and every cancel the server
  carried out for this run is reported ``cancelled`` or in doubt (so ``changed`` is true exactly when
  the server shows a cancel by this run, unless the result says in doubt);
- ``cancel_sent`` says exactly whether a request for the task reached the server;
- nothing is sent, and nothing sleeps, past the deadline.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any, Optional

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import AuthenticationError, TransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.batch import BatchRunner
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import GraphClient, ThrottleGate
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import CANCELLED, OUTCOMES, TaskCanceller

from ansible_collections.msgraph.migrations.tests.unit.fakes import GRAPH, JOB, graph_error, job, make_settings, reply

ROOT = GRAPH + '/v1.0/solutions/migrations/crossTenantMigrationJobs/' + JOB
EPOCH = 1_800_000_000.0  # the fake wall clock at the start of a run
LONG_AGO = EPOCH - 3 * 86400
EPSILON = 1e-6

STATES = ('cancellable', 'cancellable', 'cancellable', 'cancellable', 'pending_cancel', 'cancelled', 'blocked', 'pending_no_date',
          'not_in_job')
RETRY_AFTERS = (None, '0', '1', '2.5', '-3', 'nan', 'inf', 'Infinity', '1e999', '300', 'soon', 'Fri, 31 Dec 9999 23:59:59 GMT')
ENVELOPE_FAULTS = ('ok', 'ok', 'ok', 'throttled', 'gateway_after_work', 'server_error', 'lost_before_work', 'lost_after_work',
                   'junk_after_work', 'unauthorized')
SUB_FAULTS = ('normal', 'normal', 'normal', 'omit_after_work', 'omit_before_work', 'throttled', 'error_after_work', 'duplicate_same',
              'duplicate_contradicting', 'malformed_after_work', 'extra', 'extra_other_task')


@dataclass
class EnvelopePlan:
    fault: str
    status: int
    retry_after: Optional[str]
    latency: float
    subs: list[tuple[str, int, Optional[str]]]


@dataclass
class Task:
    state: str
    updated: Optional[float] = LONG_AGO
    cancelled_by_run: bool = False
    carried_out: int = 0

    def representation(self, task_id: str) -> dict[str, Any]:
        status = {'cancellable': 'inProgress', 'pending_cancel': 'pendingCancel', 'pending_no_date': 'pendingCancel',
                  'cancelled': 'cancelled', 'blocked': 'completed'}[self.state]
        body: dict[str, Any] = {'id': task_id, 'taskType': 'Users',
                                'currentStatus': [{'service': 'Exchange', 'status': status, 'message': '', 'errors': []},
                                                  {'service': 'ODSP', 'status': status if status != 'inProgress' else 'notStarted',
                                                   'message': '', 'errors': []}]}
        if self.updated is not None:
            body['lastUpdatedDateTime'] = datetime.datetime.fromtimestamp(self.updated, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        return body


class RefreshFails:
    """A credential whose first token works and whose refresh (after a 401) is refused."""

    method = 'client_secret'
    can_refresh = True

    def get_token(self, force_refresh: bool = False, deadline: Any = None) -> str:
        if force_refresh:
            raise AuthenticationError('client_secret', 'login.example', 401, 'AADSTS7000215', 'invalid_client', 'Invalid client secret.')
        return 'token-1'


class Renews:
    method = 'client_secret'
    can_refresh = True

    def __init__(self) -> None:
        self.issued = 0

    def get_token(self, force_refresh: bool = False, deadline: Any = None) -> str:
        self.issued += 1
        return 'token-%d' % self.issued


@dataclass
class World:
    """The simulated Graph (tasks, misbehaving envelopes) and the fake clock it runs on."""

    tasks: dict[str, Task]
    plans: list[EnvelopePlan]
    deadline_seconds: float
    now: float = 0.0
    envelopes: int = 0
    reached: set[str] = field(default_factory=set)
    known_accepted: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)

    # ----- time ------------------------------------------------------------------------------

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    def sleep(self, seconds: float) -> None:
        if seconds < 0 or self.now + seconds > self.deadline_seconds + EPSILON:
            self.violations.append('slept %r s at %r, past the deadline %r' % (seconds, self.now, self.deadline_seconds))
        self.now += max(0.0, seconds)

    # ----- the transport -----------------------------------------------------------------------

    def request(self, method: str, url: str, *, headers: Any = None, data: Any = None, json_body: Any = None, params: Any = None,
                deadline: Deadline) -> Any:
        if deadline.remaining() <= 0:
            # As the real transport: nothing is sent once the deadline has passed.
            raise TransportError(TransportError.TIMEOUT, 'graph.example', 'no time was left before the deadline to send the request',
                                 may_have_reached=False)
        if self.now > self.deadline_seconds + EPSILON:
            self.violations.append('a request was sent at %r, after the deadline %r' % (self.now, self.deadline_seconds))
        if method == 'POST' and url == GRAPH + '/v1.0/$batch':
            return self._batch(json_body['requests'], deadline)
        if method == 'GET' and url == ROOT + '/users':
            self._spend(0.05, deadline)
            return reply(200, {'value': [task.representation(task_id) for task_id, task in self.tasks.items() if task.state != 'not_in_job']})
        if method == 'GET' and url == ROOT:
            self._spend(0.05, deadline)
            return reply(200, job())
        raise AssertionError('unexpected request %s %s' % (method, url))

    def close(self) -> None:
        """Nothing to close."""

    def _spend(self, latency: float, deadline: Deadline) -> None:
        """The server takes ``latency``; as the real transport, the reply is given up at the deadline."""
        if latency >= deadline.remaining():
            self.now += deadline.remaining()
            raise TransportError(TransportError.TIMEOUT, 'graph.example', 'no complete reply within the deadline', may_have_reached=True)
        self.now += latency

    def _batch(self, requests: list[dict[str, Any]], deadline: Deadline) -> Any:
        plan = self.plans[self.envelopes] if self.envelopes < len(self.plans) else EnvelopePlan('ok', 200, None, 0.1, [])
        self.envelopes += 1
        ids = [sub['id'] for sub in requests]
        for sub_id in ids:
            if sub_id in self.known_accepted:
                self.violations.append('task %s was sent again after its cancel was accepted' % sub_id)
        self.reached.update(ids)
        if plan.latency >= deadline.remaining():
            # The server is too slow for what is left: it carries the cancels out; the reply comes after the deadline.
            for sub_id in ids:
                self._cancel(sub_id)
        self._spend(plan.latency, deadline)
        if plan.fault in ('throttled', 'server_error', 'unauthorized', 'lost_before_work'):
            return self._refuse(plan)
        responses = self._responses(ids, plan)
        if plan.fault == 'gateway_after_work':
            # Only a gateway error can hide work done (Graph does not carry out what it answers 429 or 503).
            return reply(plan.status if plan.status in (502, 504) else 504, graph_error('BadGateway', 'gateway'))
        if plan.fault == 'lost_after_work':
            raise TransportError(TransportError.LOST, 'graph.example', 'lost', may_have_reached=True)
        if plan.fault == 'junk_after_work':
            return reply(200, {'value': []})
        self._note_trusted(ids, responses)
        return reply(200, {'responses': list(reversed(responses))})

    @staticmethod
    def _refuse(plan: EnvelopePlan) -> Any:
        """An envelope that was not carried out at all."""
        if plan.fault == 'lost_before_work':
            raise TransportError(TransportError.LOST, 'graph.example', 'lost', may_have_reached=True)
        if plan.fault == 'unauthorized':
            return reply(401, graph_error('InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'))
        headers = {'Retry-After': plan.retry_after} if plan.retry_after is not None else {}
        status = (plan.status if plan.status in (429, 503) else 503) if plan.fault == 'throttled' else 500
        return reply(status, graph_error('TooManyRequests' if status == 429 else 'ServiceUnavailable', 'busy'), headers=headers)

    def _responses(self, ids: list[str], plan: EnvelopePlan) -> list[dict[str, Any]]:
        responses: list[dict[str, Any]] = []
        for index, sub_id in enumerate(ids):
            fault, status, retry_after = plan.subs[index] if index < len(plan.subs) else ('normal', 0, None)
            if fault == 'omit_before_work':
                continue
            if fault == 'throttled':
                headers = {'Retry-After': retry_after} if retry_after is not None else {}
                responses.append({'id': sub_id, 'status': 429, 'headers': headers, 'body': graph_error('TooManyRequests', 'slow down')})
                continue
            answer = self._cancel(sub_id)
            if fault in ('omit_after_work',):
                continue
            if fault == 'error_after_work':
                responses.append({'id': sub_id, 'status': 500, 'headers': {}, 'body': graph_error('InternalServerError', 'x')})
            elif fault == 'malformed_after_work':
                responses.append({'id': sub_id, 'status': str(answer['status']), 'headers': {}, 'body': answer['body']})
            else:
                responses.append(answer)
            if fault == 'duplicate_same':
                responses.append(dict(answer))
            elif fault == 'duplicate_contradicting':
                other = status if status != answer['status'] else (409 if answer['status'] != 409 else 202)
                responses.append({'id': sub_id, 'status': other, 'headers': {}, 'body': self._body_for(other)})
            elif fault == 'extra':
                responses.append({'id': 'not-asked-%d' % index, 'status': 202, 'headers': {}, 'body': {'status': 'Accepted'}})
            elif fault == 'extra_other_task':
                strangers = [task_id for task_id in self.tasks if task_id not in ids]
                if strangers:
                    responses.append({'id': strangers[index % len(strangers)], 'status': 202, 'headers': {}, 'body': {'status': 'Accepted'}})
        return responses

    @staticmethod
    def _body_for(status: int) -> Any:
        if 200 <= status < 300:
            return {'status': 'Accepted', 'message': 'Cancellation request was accepted.'}
        return graph_error({404: 'ResourceNotFound', 409: 'Conflict'}.get(status, 'InternalServerError'), 'no')

    def _cancel(self, task_id: str) -> dict[str, Any]:
        """The server's own answer to one cancel, with the state change it makes."""
        task = self.tasks.get(task_id)
        if task is None or task.state == 'not_in_job':
            return {'id': task_id, 'status': 404, 'headers': {}, 'body': graph_error('ResourceNotFound', 'User is not part of the job')}
        if task.state != 'cancellable':
            return {'id': task_id, 'status': 409, 'headers': {}, 'body': graph_error('Conflict', 'Cancel is not possible.')}
        task.state, task.updated, task.cancelled_by_run = 'pending_cancel', self.wall(), True
        task.carried_out += 1
        return {'id': task_id, 'status': 202, 'headers': {}, 'body': {'status': 'Accepted', 'message': 'Cancellation request was accepted.'}}

    def _note_trusted(self, ids: list[str], responses: list[dict[str, Any]]) -> None:
        """Tasks this envelope's reply says, with one voice, were accepted: the runner now knows."""
        for sub_id in ids:
            entries = [(entry['status'], json.dumps(entry.get('body'), sort_keys=True)) for entry in responses if entry['id'] == sub_id]
            if entries and len(set(entries)) == 1 and isinstance(entries[0][0], int) and 200 <= entries[0][0] < 300:
                self.known_accepted.add(sub_id)


sub_plans = st.tuples(st.sampled_from(SUB_FAULTS), st.sampled_from((202, 409, 404, 500)), st.sampled_from(RETRY_AFTERS))
envelope_plans = st.builds(EnvelopePlan, fault=st.sampled_from(ENVELOPE_FAULTS), status=st.sampled_from((429, 503, 502, 504)),
                           retry_after=st.sampled_from(RETRY_AFTERS), latency=st.sampled_from((0.0, 0.1, 0.3, 0.3, 2.0, 20.0)),
                           subs=st.lists(sub_plans, min_size=20, max_size=20))


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(states=st.lists(st.sampled_from(STATES), min_size=1, max_size=45), plans=st.lists(envelope_plans, min_size=1, max_size=8),
       max_retries=st.integers(0, 4), deadline_seconds=st.sampled_from((1.0, 10.0, 60.0, 600.0)), refresh_fails=st.booleans())
def test_bulk_cancel_through_a_hostile_batch_endpoint(states, plans, max_retries, deadline_seconds, refresh_fails):
    task_ids = ['%08x-0000-4000-8000-%012x' % (index, index) for index in range(len(states))]
    tasks = {task_id: Task(state, updated=None if state == 'pending_no_date' else LONG_AGO) for task_id, state in zip(task_ids, states)}
    world = World(tasks, plans, deadline_seconds)
    client = GraphClient(make_settings(max_retries=max_retries), RefreshFails() if refresh_fails else Renews(), world, Redactor(),
                         lambda message: None, sleep=world.sleep, wall_clock=world.wall)
    client.gate = ThrottleGate(world.sleep, world.clock)
    canceller = TaskCanceller(client, lambda message: None,
                              runner=lambda graph, concurrency: BatchRunner(graph, concurrency, sleep=world.sleep, clock=world.clock,
                                                                            wall_clock=world.wall))

    reports = canceller.cancel_many(JOB, task_ids, False, False, 1, Deadline(deadline_seconds, clock=world.clock))

    assert world.violations == []
    assert [report.task_id for report in reports] == task_ids, 'every task reported once, in order'
    assert world.now <= deadline_seconds + EPSILON, 'the run ended within its deadline'
    for report in reports:
        task = tasks[report.task_id]
        assert report.outcome in OUTCOMES and report.message, report
        assert task.carried_out <= 1
        assert 'unexpected' not in report.message, report.message
        if report.outcome == CANCELLED:
            assert task.cancelled_by_run, 'reported cancelled, but the server shows no cancel by this run: %s' % report.message
        if task.cancelled_by_run:
            assert report.outcome == CANCELLED or report.in_doubt, (
                'the server shows this run cancelled the task, but the report says %s without doubt: %s' % (report.outcome, report.message))
        assert report.cancel_sent == (report.task_id in world.reached), report
    if any(task.cancelled_by_run for task in tasks.values()):
        assert any(report.changed or report.in_doubt for report in reports)
    if any(report.changed for report in reports):
        assert any(task.cancelled_by_run for task in tasks.values())
