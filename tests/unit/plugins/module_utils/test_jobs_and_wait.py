# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Cancelling a whole job (_migration/jobs.py) by the same rules as a task, and waiting for
cancels to take effect (_migration/wait.py) within wait_timeout."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import TransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import TaskCanceller
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.jobs import JobCanceller, assess_job
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import job_cancel_path, job_path
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.wait import (
    LONGEST_POLL_SECONDS,
    WaitTimeout,
    wait_for_job,
    wait_for_tasks,
)

from ansible_collections.msgraph.migrations.tests.unit.fakes import (
    JOB,
    TASK,
    FakeClock,
    FakeTransport,
    GraphService,
    graph_error,
    job,
    make_client,
    reply,
    task,
)

CONFLICT = graph_error('Conflict', 'Cancel is not possible. Current status is completed')
JOB_ACCEPTED = {'id': JOB, 'displayName': 'Wave 1', 'status': 'pendingCancel', 'message': 'accepted', 'extra': 'not kept'}


def iso(seconds_from_now):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


def jobs(service):
    kit = make_client(FakeTransport(handler=service))
    return JobCanceller(kit.client, TaskCanceller(kit.client, lambda message: None)), kit


def lost():
    return TransportError(TransportError.LOST, 'graph.example', 'the connection to graph.example was lost', may_have_reached=True)


@pytest.mark.parametrize('the_job, state, words', [
    (job('inProgress'), 'cancellable', 'the job is inProgress and its completeAfterDateTime has not passed'),
    (job('PendingCancel'), 'already_cancelled', 'the job is PendingCancel'),
    (job('cuttingOver'), 'not_cancellable', 'the job is cuttingOver'),
    (job(complete_after='2020-01-01T00:00:00Z'), 'not_cancellable', 'completeAfterDateTime 2020-01-01T00:00:00Z has passed'),
    ({'id': JOB}, 'unknown', 'the job has no status'),
])
def test_assess_job(the_job, state, words):
    assessment = assess_job(the_job)
    assert assessment.state == state and words in assessment.reason


def test_an_accepted_job_cancel_is_changed_and_keeps_the_documented_fields():
    reports, kit = jobs(GraphService().on('POST', job_cancel_path(JOB), reply(202, JOB_ACCEPTED)))
    report = reports.cancel(JOB, check_mode=False, want_diff=False)
    assert report.outcome == 'cancelled' and report.changed and report.after == 'pendingCancel' and report.cancel_sent
    assert report.cancel_response == {'id': JOB, 'displayName': 'Wave 1', 'status': 'pendingCancel', 'message': 'accepted'}
    assert [sent.method for sent in kit.transport.sent] == ['POST']


def test_an_accepted_job_cancel_in_a_shape_graph_never_uses_fails_in_doubt():
    page = reply(200, raw=b'<html>Sign in</html>', headers={'Content-Type': 'text/html'})
    reports, _kit = jobs(GraphService().on('POST', job_cancel_path(JOB), page))
    report = reports.cancel(JOB, False, False)
    assert report.outcome == 'failed' and report.in_doubt and not report.changed


@pytest.mark.parametrize('the_job, outcome, words', [
    (job('pendingCancel'), 'already_cancelled', 'Job %s was already cancelled' % JOB),
    (job('completed'), 'not_cancellable', 'the job is completed. Nothing was changed.'),
    (job('inProgress'), 'not_cancellable', 'the job does not say why (it is inProgress)'),
])
def test_a_job_conflict_is_explained_by_the_job(the_job, outcome, words):
    service = GraphService().on('POST', job_cancel_path(JOB), reply(409, CONFLICT)).on('GET', job_path(JOB), reply(200, the_job))
    report = jobs(service)[0].cancel(JOB, False, False)
    assert report.outcome == outcome and report.conflict and report.conflict_reason == outcome and words in report.message
    assert report.job == the_job and not report.changed


def test_a_job_cancelled_after_our_lost_attempt_was_cancelled_by_it():
    service = (GraphService().on('POST', job_cancel_path(JOB), lost(), reply(409, CONFLICT))
               .on('GET', job_path(JOB), reply(200, job('pendingCancel', lastUpdatedDateTime=iso(2)))))
    report = jobs(service)[0].cancel(JOB, False, False)
    assert report.outcome == 'cancelled' and report.changed and not report.in_doubt and report.warnings == [report.message]


def test_a_job_without_a_date_keeps_the_doubt_and_says_so():
    service = GraphService().on('POST', job_cancel_path(JOB), lost(), reply(409, CONFLICT)).on('GET', job_path(JOB), reply(200, job('cancelled')))
    report = jobs(service)[0].cancel(JOB, False, False)
    assert report.outcome == 'already_cancelled' and report.in_doubt and 'has no lastUpdatedDateTime' in report.message


def test_a_job_conflict_that_cannot_be_explained_fails():
    service = (GraphService().on('POST', job_cancel_path(JOB), reply(409, CONFLICT))
               .on('GET', job_path(JOB), reply(200, raw=b'<html/>', headers={'Content-Type': 'text/html'})))
    report = jobs(service)[0].cancel(JOB, False, False)
    assert report.outcome == 'failed' and 'reading the job to tell why failed' in report.message and 'not a job' in report.message


def test_a_missing_job_is_not_found():
    report = jobs(GraphService().on('POST', job_cancel_path(JOB), reply(404, graph_error('NotFound', 'no job'))))[0].cancel(JOB, False, False)
    assert report.outcome == 'not_found' and 'The job %s was not found.' % JOB in report.message


@pytest.mark.parametrize('status, outcome, after', [('inProgress', 'cancelled', 'pendingCancel'), ('cuttingOver', 'not_cancellable', 'cuttingOver'),
                                                    ('cancelled', 'already_cancelled', 'cancelled')])
def test_check_mode_reads_the_job_and_posts_nothing(status, outcome, after):
    reports, kit = jobs(GraphService().on('GET', job_path(JOB), reply(200, job(status))))
    report = reports.cancel(JOB, check_mode=True, want_diff=True)
    assert report.outcome == outcome and report.before == status and report.after == after and not report.cancel_sent
    assert [sent.method for sent in kit.transport.sent] == ['GET']


# ----- waiting ------------------------------------------------------------------------------


def test_waiting_for_tasks_polls_with_backoff_until_nothing_is_pending_cancel():
    clock = FakeClock()
    answers = iter([{TASK: task(Exchange='pendingCancel')}, {TASK: task(Exchange='pendingCancel', Teams='cancelled')},
                    {TASK: task(Exchange='cancelled')}])
    final = wait_for_tasks(lambda: next(answers), [TASK], Deadline(900, clock=clock), sleep=clock.sleep)
    assert final == {TASK: task(Exchange='cancelled')} and clock.sleeps == [1.0, 2.0]


def test_tasks_missing_from_the_listing_are_not_waited_for():
    clock = FakeClock()
    final = wait_for_tasks(lambda: {}, [TASK], Deadline(900, clock=clock), sleep=clock.sleep)
    assert final == {} and clock.sleeps == []


def test_waiting_stops_at_wait_timeout_with_what_is_still_pending():
    clock = FakeClock()
    ids = ['00000000-0000-0000-0000-%012d' % number for number in range(25)]
    latest = {task_id: task(task_id, Exchange='pendingCancel') for task_id in ids}
    with pytest.raises(WaitTimeout) as caught:
        wait_for_tasks(lambda: latest, ids, Deadline(60, clock=clock), sleep=clock.sleep)
    error = caught.value
    assert clock.now <= 60 and error.latest is latest and error.result['still_pending'] == ids
    assert error.message.startswith('Waited 60 s (wait_timeout) and these tasks are still pendingCancel: %s' % ids[0])
    assert ' and 5 more. The cancel was accepted; Graph has not finished it yet.' in error.message


def test_polls_back_off_to_at_most_the_longest_interval():
    clock = FakeClock()
    with pytest.raises(WaitTimeout):
        wait_for_job(lambda: job('pendingCancel'), JOB, Deadline(200, clock=clock), sleep=clock.sleep)
    assert clock.sleeps[:5] == [1.0, 2.0, 4.0, 8.0, LONGEST_POLL_SECONDS] and max(clock.sleeps) == LONGEST_POLL_SECONDS


def test_waiting_for_a_job_ends_when_it_is_no_longer_pending_cancel():
    clock = FakeClock()
    answers = iter([job('pendingCancel'), job('Cancelled')])
    assert wait_for_job(lambda: next(answers), JOB, Deadline(900, clock=clock), sleep=clock.sleep)['status'] == 'Cancelled'
    with pytest.raises(WaitTimeout, match='this job is still pendingCancel: %s' % JOB):
        wait_for_job(lambda: job('pendingCancel'), JOB, Deadline(0.5, clock=clock), sleep=clock.sleep)
