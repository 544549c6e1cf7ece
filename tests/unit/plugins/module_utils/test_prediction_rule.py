# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one rule for "cancellable" (odd task and job data is never predicted cancellable) in every path that predicts,
and the hint on Graph's "resource not found for the segment" answer."""

from __future__ import annotations

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.results import bulk_task_result, job_result, single_task_result
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphRequestError
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import GraphReply
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import (
    CancelReport,
    TaskCanceller,
    Verdict,
    fail_report,
    raise_for_reply,
    settle_conflict,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.jobs import JobCanceller, assess_job
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import (
    api_version_hint,
    assess_task,
    job_path,
    job_status_text,
    task_path,
    tasks_path,
)

from ansible_collections.msgraph.migrations.tests.unit.fakes import JOB, TASK, FakeTransport, GraphService, graph_error, job, make_client, reply, task

SEGMENT = "Resource not found for the segment 'migrations'."
TASK2 = '6a88de8d-7027-44c1-8674-03f826aa1705'


def raw_task(current_status, task_id=TASK):
    return {'id': task_id, 'currentStatus': current_status}


def entry(service, status):
    return {'service': service, 'status': status}


ODD_TASKS = [
    ({'id': TASK}, 'the task has no currentStatus'),
    (raw_task(None), 'the task has no currentStatus'),
    (raw_task([]), 'its currentStatus lists no workload'),
    (raw_task('inProgress'), 'its currentStatus is a string, not a list of workloads'),
    (raw_task({'Exchange': 'inProgress'}), 'its currentStatus is an object'),
    (raw_task([entry('Exchange', None)]), 'workload Exchange has no status'),
    (raw_task([entry('Exchange', '')]), 'workload Exchange has no status'),
    (raw_task([entry('Exchange', 7)]), 'workload Exchange has a number as its status'),
    (task(Exchange='readyForCutover'), "workload Exchange is 'readyForCutover', a status this collection does not know"),
    (task(Exchange='completed '), "workload Exchange is 'completed '"),
    (task(Exchange='unknownFutureValue', ODSP='notStarted'), 'workload Exchange is unknownFutureValue'),
    (raw_task([entry('Exchange', 'inProgress'), entry('exchange', 'inProgress')]), 'workload exchange is listed twice'),
    (raw_task([entry('Exchange', 'inProgress'), 'Teams']), 'currentStatus[1] is a string, not a workload'),
    (raw_task([entry('', 'inProgress')]), 'currentStatus[0] names no service'),
]


@pytest.mark.parametrize('the_task, words', ODD_TASKS)
def test_odd_task_data_is_unknown_never_cancellable(the_task, words):
    assessment = assess_task(the_task)
    assert assessment.state == 'unknown'
    assert assessment.reason.startswith('this collection cannot judge it: ') and words in assessment.reason


def test_a_known_blocker_or_a_cancel_in_effect_is_judged_whatever_else_the_task_holds():
    blocked = assess_task(raw_task([entry('Exchange', 'completed'), entry('Teams', 'readyForCutover')]))
    assert blocked.state == 'not_cancellable' and blocked.blocking == {'Exchange': 'completed'}
    assert "'readyForCutover'" in blocked.oddities
    # A blocking status in a duplicate entry counts: one blocking workload is enough for a 409.
    assert assess_task(raw_task([entry('Exchange', 'inProgress'), entry('Exchange', 'completed')])).state == 'not_cancellable'
    assert assess_task(task(Exchange='readyForCutover'), 'the job is cuttingOver').state == 'not_cancellable'
    twice_cancelled = assess_task(raw_task([entry('Exchange', 'cancelled'), entry('Exchange', 'pendingCancel')]))
    assert twice_cancelled.state == 'already_cancelled'
    # Cancelled next to a status nobody knows: not every workload is cancelled, and cancelled blocks.
    assert assess_task(raw_task([entry('Exchange', 'cancelled'), entry('Teams', 'readyForCutover')])).state == 'not_cancellable'
    assert assess_task(task(Exchange='inProgress', ODSP='notStarted')).state == 'cancellable'


def test_a_job_whose_status_cannot_be_judged_makes_its_tasks_unknown_but_not_a_cancelled_one():
    doubt = 'the job has no status'
    assert assess_task(task(Exchange='inProgress'), None, doubt).state == 'unknown'
    assert doubt in assess_task(task(Exchange='inProgress'), None, doubt).reason
    assert assess_task(task(Exchange='cancelled'), None, doubt).state == 'already_cancelled'
    assert assess_task(task(Exchange='completed'), None, doubt).state == 'not_cancellable'


@pytest.mark.parametrize('the_job, state, words', [
    ({'id': JOB}, 'unknown', 'the job has no status'),
    (job(None), 'unknown', 'the job has no status'),
    (job(''), 'unknown', 'the job has no status'),
    (job(42), 'unknown', "the job's status is a number, not a string"),
    (job('unknownFutureValue'), 'unknown', 'unknownFutureValue'),
    (job('readyForCutover'), 'unknown', "the job's status 'readyForCutover' is one this collection does not know"),
    (job('approved'), 'cancellable', 'the job is approved'),
    (job('CANCELLED'), 'already_cancelled', 'the job is CANCELLED'),
    (job(None, complete_after='2020-01-01T00:00:00Z'), 'not_cancellable', 'has passed'),
])
def test_assess_job_never_calls_an_unjudged_status_cancellable(the_job, state, words):
    assessment = assess_job(the_job)
    assert assessment.state == state and words in assessment.reason


def test_a_job_diff_never_shows_none():
    assert job_status_text({'id': JOB}) == '(no status)' and job_status_text(job(None)) == '(no status)'
    assert job_status_text(job('inProgress')) == 'inProgress' and job_status_text(job(42)) == '42'


def canceller(service):
    kit = make_client(FakeTransport(handler=service))
    warnings = []
    return TaskCanceller(kit.client, warnings.append), kit, warnings


def test_single_check_mode_predicts_unknown_with_a_warning_and_no_conflict():
    service = GraphService().on('GET', task_path(JOB, TASK), reply(200, raw_task('inProgress'))).on('GET', job_path(JOB), reply(200, job()))
    tasks, kit, _warnings = canceller(service)
    report = tasks.cancel_one(JOB, TASK, True, True)
    assert report.outcome == 'unknown' and not report.conflict and report.conflict_reason is None and not report.cancel_sent
    assert report.after == report.before == {}
    assert [request.method for request in kit.transport.sent] == ['GET', 'GET']
    shaped = single_task_result(report, fail_on_conflict=True, want_diff=True, check_mode=True)
    assert shaped.failure is None and shaped.fields['changed'] is False
    assert len(shaped.warnings) == 1 and 'cannot be told' in shaped.warnings[0] and 'currentStatus is a string' in shaped.warnings[0]


def test_bulk_check_mode_uses_the_same_rule_and_counts_unknown():
    listing = [task(TASK, Exchange='inProgress'), task(TASK2, Exchange='readyForCutover')]
    service = GraphService().on('GET', tasks_path(JOB), reply(200, {'value': listing})).on('GET', job_path(JOB), reply(200, job()))
    tasks, _kit, _warnings = canceller(service)
    reports = tasks.cancel_many(JOB, [TASK, TASK2], True, True, concurrency=1)
    assert [report.outcome for report in reports] == ['cancelled', 'unknown']
    shaped = bulk_task_result(reports, fail_on_conflict=True, want_diff=True)
    assert shaped.failure is None and shaped.fields['summary']['unknown'] == 1 and shaped.fields['summary']['total'] == 2
    assert [entry['workloads'] for entry in shaped.fields['results']] == [{'Exchange': 'pendingCancel'}, {'Exchange': 'readyForCutover'}]
    assert any(TASK2 in warning and 'cannot be told' in warning for warning in shaped.warnings)


def test_bulk_check_mode_with_a_job_of_no_status_predicts_no_cancel():
    service = (GraphService().on('GET', tasks_path(JOB), reply(200, {'value': [task(TASK, Exchange='inProgress')]}))
               .on('GET', job_path(JOB), reply(200, {'id': JOB})))
    tasks, _kit, _warnings = canceller(service)
    [report] = tasks.cancel_many(JOB, [TASK], True, False, concurrency=1)
    assert report.outcome == 'unknown' and 'the job has no status' in report.message


def test_job_check_mode_predicts_unknown_and_its_diff_shows_no_none():
    service = GraphService().on('GET', job_path(JOB), reply(200, {'id': JOB, 'completeAfterDateTime': '2099-01-01T00:00:00Z'}))
    kit = make_client(FakeTransport(handler=service))
    report = JobCanceller(kit.client, TaskCanceller(kit.client, lambda message: None)).cancel(JOB, True, True)
    assert report.outcome == 'unknown' and not report.conflict and not report.changed
    shaped = job_result(report, fail_on_conflict=True, want_diff=True, check_mode=True)
    assert shaped.failure is None and shaped.fields['diff']['before'] == shaped.fields['diff']['after'] == {'status': '(no status)'}
    assert 'the job has no status' in shaped.warnings[0]


def test_a_409_on_an_odd_task_is_still_explained():
    report = CancelReport(task_id=TASK)
    settle_conflict(report, task(Exchange='readyForCutover'), None, 0.0, 'Conflict: Cancel is not possible')
    assert report.outcome == 'not_cancellable' and report.conflict and report.conflict_reason == 'not_cancellable'
    assert 'its data does not say why' in report.message and "'readyForCutover'" in report.message


def test_a_409_on_an_odd_task_reads_the_job_which_may_explain_it():
    conflict = graph_error('Conflict', 'Cancel is not possible. Current status is cuttingOver')
    service = (GraphService().on('POST', task_path(JOB, TASK) + '/cancel', reply(409, conflict))
               .on('GET', task_path(JOB, TASK), reply(200, raw_task([])))
               .on('GET', job_path(JOB), reply(200, job('cuttingOver'))))
    tasks, _kit, _warnings = canceller(service)
    report = tasks.cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'not_cancellable' and 'the job is cuttingOver' in report.message


# ----- the API version hint -------------------------------------------------------------------

@pytest.mark.parametrize('status, message', [
    (400, SEGMENT),
    (404, SEGMENT),
    (400, "resource  not found for the segment 'crossTenantMigrationJobs'"),
    (400, 'Resource not found for segment "migrations".'),
])
def test_the_segment_answer_is_recognised(status, message):
    hint = api_version_hint(status, message, 'v1.0')
    assert hint is not None and hint.endswith('Set api_version: beta.') and 'Graph v1.0 does not know' in hint
    beta = api_version_hint(status, message, 'beta')
    assert 'api_version is already beta' in beta and 'Set api_version: beta' not in beta


@pytest.mark.parametrize('status, message', [
    (404, "Job 'x' was not found"),
    (409, SEGMENT),
    (500, SEGMENT),
    (400, None),
    (400, 'Invalid value for the id'),
])
def test_other_answers_get_no_version_hint(status, message):
    assert api_version_hint(status, message, 'v1.0') is None


def graph_reply(status, code, message, api_version='v1.0'):
    return GraphReply('GET', job_path(JOB), status, {}, graph_error(code, message), True, 'req-1', api_version=api_version)


def test_a_read_answered_with_the_segment_error_names_the_version():
    with pytest.raises(GraphRequestError) as caught:
        raise_for_reply(graph_reply(400, 'BadRequest', SEGMENT), 'Reading job %s failed' % JOB, write=False, job_id=JOB)
    assert 'Set api_version: beta.' in caught.value.message and 'was not found' not in caught.value.message
    with pytest.raises(GraphRequestError) as caught:
        raise_for_reply(graph_reply(404, 'ResourceNotFound', SEGMENT, 'beta'), 'Reading job failed', write=False, job_id=JOB)
    assert 'api_version is already beta' in caught.value.message
    with pytest.raises(GraphRequestError) as caught:
        raise_for_reply(graph_reply(404, 'ResourceNotFound', "Job '%s' was not found" % JOB), 'Reading job failed', write=False, job_id=JOB)
    assert 'The job %s was not found.' % JOB in caught.value.message and 'api_version' not in caught.value.message


def test_a_cancel_answered_404_with_the_segment_error_is_a_failure_not_a_missing_user():
    report = CancelReport(task_id=TASK, cancel_sent=True)
    fail_report(report, graph_reply(404, 'ResourceNotFound', SEGMENT), Verdict.NOT_FOUND, 'Cancelling task %s' % TASK, 'User not in job.')
    assert report.outcome == 'failed' and not report.in_doubt
    assert 'Set api_version: beta.' in report.message and 'User not in job' not in report.message and '(request-id: req-1)' in report.message


def test_a_bulk_sub_response_with_the_segment_error_names_the_version():
    service = GraphService(root='https://graph.example/beta')
    service.batch = lambda sub, attempt: (400, {}, graph_error('BadRequest', SEGMENT))
    kit = make_client(FakeTransport(handler=service), api_version='beta')
    reports = TaskCanceller(kit.client, lambda message: None).cancel_many(JOB, [TASK, TASK2], False, False, concurrency=1)
    assert [report.outcome for report in reports] == ['failed', 'failed']
    assert all('api_version is already beta' in report.message and report.cancel_sent for report in reports)
