# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Cancelling tasks (_migration/cancel.py): the one verdict rule, what a 409 means (with the evidence
rule for a cancel in doubt), check mode, and a wave through $batch, over a real GraphClient and a fake Graph."""

from __future__ import annotations

import datetime
import itertools
import time

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphRequestError, TransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._graph import batch as batch_module
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import (
    CancelReport,
    TaskCanceller,
    Verdict,
    judge_cancel_reply,
    migration_goes_on,
    settle_conflict,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import (
    EVIDENCE_SKEW_SECONDS,
    assess_task,
    job_path,
    task_cancel_path,
    task_path,
    tasks_path,
)

from ansible_collections.msgraph.migrations.tests.unit.fakes import (
    JOB,
    TASK,
    FakeTransport,
    GraphService,
    graph_error,
    job,
    make_client,
    reply,
    task,
)

ACCEPTED = {'status': 'Accepted', 'message': 'Cancellation request for user id: %s from batch: %s was accepted.' % (TASK, JOB)}
CONFLICT = graph_error('Conflict', 'Cancel is not possible. Current status is completed')
TASK2 = '6a88de8d-7027-44c1-8674-03f826aa1705'
TASK3 = '6a88de8d-7027-44c1-8674-03f826aa1706'
TASK4 = '6a88de8d-7027-44c1-8674-03f826aa1707'


def iso(seconds_from_now):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return when.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def lost():
    return TransportError(TransportError.LOST, 'graph.example', 'the connection to graph.example was lost', may_have_reached=True)


def canceller(service, max_retries=3):
    kit = make_client(FakeTransport(handler=service), max_retries=max_retries)
    warnings = []
    return TaskCanceller(kit.client, warnings.append), kit, warnings


def sent(kit):
    return [(request.method, request.path.replace('/v1.0', '', 1)) for request in kit.transport.sent]


@pytest.mark.parametrize('status, body, is_json, verdict', [
    (202, ACCEPTED, True, Verdict.ACCEPTED),
    (200, ACCEPTED, True, Verdict.ACCEPTED),
    (204, None, False, Verdict.ACCEPTED),
    (202, '<html>ok</html>', False, Verdict.FAILED),
    (202, ['a'], True, Verdict.FAILED),
    (409, CONFLICT, True, Verdict.CONFLICT),
    (409, None, False, Verdict.FAILED),
    (409, {'message': 'not graph'}, True, Verdict.FAILED),
    (404, graph_error('NotFound', 'x'), True, Verdict.NOT_FOUND),
    (404, '<html>Not Found</html>', False, Verdict.FAILED),
    (403, graph_error('Forbidden', 'x'), True, Verdict.FAILED),
    (500, graph_error('InternalServerError', 'x'), True, Verdict.FAILED),
])
def test_judge_cancel_reply(status, body, is_json, verdict):
    """Only Graph's own answers count: a proxy's page is a failure whatever its status says."""
    assert judge_cancel_reply(status, body, is_json) is verdict


def test_an_accepted_cancel_is_changed():
    service = GraphService().on('POST', task_cancel_path(JOB, TASK), reply(202, ACCEPTED))
    tasks, kit, warnings = canceller(service)
    report = tasks.cancel_one(JOB, TASK, check_mode=False, want_diff=False)
    assert report.outcome == 'cancelled' and report.changed and not report.conflict and report.cancel_sent
    assert report.status_code == 202 and report.request_id == 'rid-202' and not report.in_doubt
    assert report.cancel_response == {'status': 'Accepted', 'message': ACCEPTED['message']}
    assert report.message == 'Graph accepted the cancel of task %s in job %s (HTTP 202).' % (TASK, JOB)
    assert sent(kit) == [('POST', task_cancel_path(JOB, TASK))] and warnings == []


def test_an_accepted_reply_in_a_shape_graph_never_uses_is_a_failure_in_doubt():
    """A proxy answering 200 with HTML: it may or may not have passed the cancel on."""
    service = GraphService().on('POST', task_cancel_path(JOB, TASK), reply(200, raw=b'<html>Welcome</html>', headers={'Content-Type': 'text/html'}))
    tasks, _kit, _warnings = canceller(service)
    report = tasks.cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'failed' and not report.changed and report.in_doubt
    assert 'the reply was not JSON (text/html)' in report.message and 'crosstenant_migration_task_info' in report.message


def test_a_conflict_on_a_completed_task_is_not_cancellable_and_the_migration_has_ended():
    service = (GraphService().on('POST', task_cancel_path(JOB, TASK), reply(409, CONFLICT))
               .on('GET', task_path(JOB, TASK), reply(200, task(Exchange='completed', Teams='completed'))))
    tasks, kit, _warnings = canceller(service)
    report = tasks.cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'not_cancellable' and report.conflict and report.conflict_reason == 'not_cancellable' and not report.changed
    assert report.blocking == {'Exchange': 'completed', 'Teams': 'completed'}
    assert report.error == {'code': 'Conflict', 'message': 'Cancel is not possible. Current status is completed'}
    assert report.message == ('Graph refused to cancel task %s with 409 (Conflict: Cancel is not possible. Current status is completed): '
                              'workload Exchange is completed, Teams is completed, so it can no longer be cancelled; its migration has '
                              'already ended. Nothing was changed.' % TASK)
    assert sent(kit) == [('POST', task_cancel_path(JOB, TASK)), ('GET', task_path(JOB, TASK))]


def test_a_conflict_on_a_finalizing_task_says_the_migration_goes_on():
    service = (GraphService().on('POST', task_cancel_path(JOB, TASK), reply(409, CONFLICT))
               .on('GET', task_path(JOB, TASK), reply(200, task(Exchange='finalizing', Teams='inProgress'))))
    report = canceller(service)[0].cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'not_cancellable' and 'its migration goes on' in report.message


def test_a_conflict_the_workloads_do_not_explain_is_explained_by_the_job():
    """The workloads say cancellable: the job (cutting over) says why not, and the migration goes on."""
    service = (GraphService().on('POST', task_cancel_path(JOB, TASK), reply(409, CONFLICT))
               .on('GET', task_path(JOB, TASK), reply(200, task(Exchange='inProgress')))
               .on('GET', job_path(JOB), reply(200, job('cuttingOver'))))
    tasks, kit, _warnings = canceller(service)
    report = tasks.cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'not_cancellable' and 'the job is cuttingOver' in report.message and 'its migration goes on' in report.message
    assert sent(kit)[-1] == ('GET', job_path(JOB))


def test_a_conflict_on_a_task_already_cancelled_is_ok_and_not_changed():
    service = (GraphService().on('POST', task_cancel_path(JOB, TASK), reply(409, CONFLICT))
               .on('GET', task_path(JOB, TASK), reply(200, task(Exchange='pendingCancel', Teams='cancelled'))))
    report = canceller(service)[0].cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'already_cancelled' and not report.changed and report.conflict_reason == 'already_cancelled'
    assert report.message.startswith('Task %s was already cancelled: Graph refused the cancel with 409' % TASK)
    assert report.warnings == []


def in_doubt_then_conflict(updated):
    """The first POST's reply is lost, the retry meets 409, the task is pendingCancel (updated at ``updated``)."""
    return (GraphService().on('POST', task_cancel_path(JOB, TASK), lost(), reply(409, CONFLICT))
            .on('GET', task_path(JOB, TASK), reply(200, task(updated=updated, Exchange='pendingCancel'))))


def test_evidence_rule_a_task_changed_after_our_lost_attempt_was_cancelled_by_it():
    report = canceller(in_doubt_then_conflict(iso(2)))[0].cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'cancelled' and report.changed and not report.in_doubt and not report.conflict
    assert 'changed after that attempt was sent, so that attempt cancelled it' in report.message
    assert report.warnings == [report.message] and report.after == {'Exchange': 'pendingCancel'}


def test_evidence_rule_a_task_changed_well_before_our_attempt_was_cancelled_earlier():
    report = canceller(in_doubt_then_conflict(iso(-EVIDENCE_SKEW_SECONDS - 60)))[0].cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'already_cancelled' and not report.changed and not report.in_doubt and report.warnings == []


def test_evidence_rule_without_a_date_the_doubt_stays_and_is_said():
    report = canceller(in_doubt_then_conflict(None))[0].cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'already_cancelled' and report.in_doubt
    assert 'has no lastUpdatedDateTime' in report.message and report.warnings == [report.message]


def test_a_throttled_first_attempt_is_not_evidence():
    """A 429 was not carried out: the 409 that follows meets the task's earlier state."""
    service = (GraphService().on('POST', task_cancel_path(JOB, TASK), reply(429, {}, headers={'Retry-After': '0'}), reply(409, CONFLICT))
               .on('GET', task_path(JOB, TASK), reply(200, task(updated=iso(2), Exchange='pendingCancel'))))
    report = canceller(service)[0].cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'already_cancelled' and not report.changed and not report.in_doubt


def test_a_conflict_that_cannot_be_explained_fails_and_keeps_the_doubt():
    service = (GraphService().on('POST', task_cancel_path(JOB, TASK), lost(), reply(409, CONFLICT))
               .on('GET', task_path(JOB, TASK), reply(404, graph_error('NotFound', 'gone'))))
    report = canceller(service)[0].cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'failed' and report.in_doubt
    assert 'reading the task (and its job) to tell why failed: Reading task %s in job %s failed: HTTP 404 NotFound: gone.' % (TASK, JOB) in (
        report.message)
    assert 'that attempt may have cancelled the task' in report.message


@pytest.mark.parametrize('status, body, outcome, words', [
    (404, graph_error('NotFound', 'User not in batch'), 'not_found', 'The job %s was not found, or user %s is not part of it.' % (JOB, TASK)),
    (403, graph_error('Forbidden', 'Missing role'), 'failed', 'CrossTenantContentMigration.ReadWrite.All'),
    (400, graph_error('BadRequest', 'Nope'), 'failed', 'HTTP 400 BadRequest: Nope'),
])
def test_not_found_and_failures_say_what_to_do(status, body, outcome, words):
    service = GraphService().on('POST', task_cancel_path(JOB, TASK), reply(status, body))
    report = canceller(service)[0].cancel_one(JOB, TASK, False, False)
    assert report.outcome == outcome and words in report.message and report.status_code == status
    assert '(request-id: rid-%d)' % status in report.message


def test_no_usable_reply_fails_and_says_whether_it_may_have_gone_through():
    refused = TransportError(TransportError.CONNECT, 'graph.example', 'could not connect to graph.example', may_have_reached=False)
    report = canceller(GraphService().on('POST', task_cancel_path(JOB, TASK), refused), max_retries=1)[0].cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'failed' and not report.in_doubt and 'got no usable reply' in report.message
    assert 'may have been carried out' not in report.message and report.error['kind'] == 'connect'
    assert not report.cancel_sent, 'no connection was made: the cancel never left this machine'
    report = canceller(GraphService().on('POST', task_cancel_path(JOB, TASK), lost()), max_retries=1)[0].cancel_one(JOB, TASK, False, False)
    assert report.outcome == 'failed' and report.in_doubt and 'the cancel may have been carried out' in report.message
    assert report.cancel_sent


def test_check_mode_reads_and_predicts_without_posting():
    service = (GraphService().on('GET', task_path(JOB, TASK), reply(200, task(Exchange='inProgress', Teams='notStarted')))
               .on('GET', job_path(JOB), reply(200, job())))
    tasks, kit, _warnings = canceller(service)
    report = tasks.cancel_one(JOB, TASK, check_mode=True, want_diff=True)
    assert report.outcome == 'cancelled' and report.changed and not report.cancel_sent
    assert report.before == {'Exchange': 'inProgress', 'Teams': 'notStarted'}
    assert report.after == {'Exchange': 'pendingCancel', 'Teams': 'pendingCancel'}
    assert [method for method, _path in sent(kit)] == ['GET', 'GET']


@pytest.mark.parametrize('workloads, the_job, outcome, words', [
    (dict(Exchange='completed'), job(), 'not_cancellable', 'because workload Exchange is completed; its migration has already ended'),
    (dict(Exchange='inProgress'), job('cuttingOver'), 'not_cancellable', 'because the job is cuttingOver; its migration would go on'),
    (dict(Exchange='inProgress'), job(complete_after='2020-01-01T00:00:00.1234567Z'), 'not_cancellable',
     'completeAfterDateTime 2020-01-01T00:00:00.1234567Z has passed'),
    (dict(Exchange='pendingCancel'), job(), 'already_cancelled', 'is already cancelled'),
])
def test_check_mode_predicts_a_conflict_by_the_same_rules(workloads, the_job, outcome, words):
    service = GraphService().on('GET', task_path(JOB, TASK), reply(200, task(**workloads))).on('GET', job_path(JOB), reply(200, the_job))
    report = canceller(service)[0].cancel_one(JOB, TASK, True, False)
    assert report.outcome == outcome and report.conflict and not report.changed and words in report.message


def test_check_mode_with_a_forbidden_read_names_the_read_permission():
    service = GraphService().on('GET', task_path(JOB, TASK), reply(403, graph_error('Authorization_RequestDenied', 'no')))
    with pytest.raises(GraphRequestError) as caught:
        canceller(service)[0].cancel_one(JOB, TASK, True, False)
    assert 'CrossTenantContentMigration.Read.All' in caught.value.message
    assert caught.value.result['job_id'] == JOB and caught.value.result['task_id'] == TASK


def test_diff_in_a_real_run_reads_before_and_predicts_after():
    service = (GraphService().on('GET', task_path(JOB, TASK), reply(200, task(Exchange='inProgress', Teams='someNewStatus')))
               .on('POST', task_cancel_path(JOB, TASK), reply(202, ACCEPTED)))
    tasks, kit, warnings = canceller(service)
    report = tasks.cancel_one(JOB, TASK, False, True)
    assert report.before == {'Exchange': 'inProgress', 'Teams': 'someNewStatus'}
    assert report.after == {'Exchange': 'pendingCancel', 'Teams': 'pendingCancel'}
    assert sent(kit) == [('GET', task_path(JOB, TASK)), ('POST', task_cancel_path(JOB, TASK))]
    assert warnings == ["Task %s has data this collection cannot judge: workload Teams is 'someNewStatus', a status this collection "
                        "does not know. The cancel is sent anyway, and Graph judges it." % TASK]


def test_settle_conflict_rules_directly():
    """in doubt + cancel in effect + changed after the first attempt: ours; clearly older: an earlier cancel."""
    first_sent = time.time()
    for updated, outcome in ((iso(1), 'cancelled'), (iso(-3600), 'already_cancelled')):
        report = CancelReport(task_id=TASK, in_doubt=True)
        settle_conflict(report, task(updated=updated, Exchange='cancelled'), None, first_sent, 'Conflict')
        assert report.outcome == outcome
    report = CancelReport(task_id=TASK, in_doubt=False)
    settle_conflict(report, task(updated=iso(1), Exchange='cancelled'), None, first_sent, 'Conflict')
    assert report.outcome == 'already_cancelled', 'without a lost attempt nothing of ours could have cancelled it'
    report = CancelReport(task_id=TASK, in_doubt=True)
    settle_conflict(report, task(updated=iso(1), Exchange='inProgress'), 'the job is cuttingOver', first_sent, 'Conflict')
    assert report.outcome == 'not_cancellable' and not report.in_doubt


def test_migration_goes_on():
    assert migration_goes_on(assess_task(task(Exchange='syncing', Teams='completed')))
    assert not migration_goes_on(assess_task(task(Exchange='failed', Teams='completed')))
    assert migration_goes_on(assess_task(task(Exchange='inProgress'), "the job's completeAfterDateTime x has passed"))
    assert not migration_goes_on(assess_task(task(Exchange='inProgress'), 'the job is failed'))


# ----- a wave through $batch ----------------------------------------------------------------


def wave(answers, listing=None, the_job=None, max_retries=3):
    """A canceller whose fake Graph answers $batch sub-requests from ``answers`` (task id -> list of answers)."""
    service = GraphService()

    def batch(sub, attempt):
        task_id = sub['url'].split('/users/')[1].split('/')[0]
        options = answers[task_id]
        return options[min(attempt, len(options) - 1)]

    service.batch = batch
    if listing is not None:
        service.on('GET', tasks_path(JOB), reply(200, {'value': listing}))
    if the_job is not None:
        service.on('GET', job_path(JOB), reply(200, the_job))
    tasks, kit, warnings = canceller(service, max_retries)
    ticks = itertools.count(0, 100)
    kit.client.gate._clock = lambda: 0.0  # pylint: disable=protected-access
    return tasks, kit, warnings, service, ticks


@pytest.fixture
def quick_batches(monkeypatch):
    """Held-back sub-requests are due at once: the batch runner's clock jumps ahead."""
    ticks = itertools.count(0, 100)
    monkeypatch.setattr(batch_module.time, 'monotonic', lambda: next(ticks))


def test_a_wave_settles_each_task_and_judges_conflicts_from_one_listing(quick_batches):
    answers = {
        TASK: [(202, {}, ACCEPTED)],
        TASK2: [(409, {}, CONFLICT)],
        TASK3: [(404, {}, graph_error('NotFound', 'not in batch'))],
        TASK4: [(409, {}, CONFLICT)],
    }
    listing = [task(TASK2.upper(), Exchange='completed'), task(TASK4, Exchange='pendingCancel')]
    tasks, kit, warnings, service, _ticks = wave(answers, listing=listing)
    reports = tasks.cancel_many(JOB, [TASK, TASK2, TASK3, TASK4], False, False, concurrency=2)
    assert [report.task_id for report in reports] == [TASK, TASK2, TASK3, TASK4]
    assert [report.outcome for report in reports] == ['cancelled', 'not_cancellable', 'not_found', 'already_cancelled']
    assert all(report.cancel_sent for report in reports)
    assert reports[1].conflict_reason == 'not_cancellable' and reports[1].blocking == {'Exchange': 'completed'}
    assert reports[2].message.startswith('Cancelling task %s failed: HTTP 404 NotFound: not in batch. User %s is not part of job %s.'
                                         % (TASK3, TASK3, JOB))
    assert sent(kit) == [('POST', '/$batch'), ('GET', tasks_path(JOB))], 'one listing, no GET per task, no job read'
    assert len(service.envelopes) == 1 and warnings == []


def test_a_wave_reads_the_job_when_a_conflict_is_not_explained_by_workloads(quick_batches):
    tasks, kit, _warnings, _service, _ticks = wave({TASK: [(409, {}, CONFLICT)]}, listing=[task(TASK, Exchange='inProgress')],
                                                   the_job=job('cuttingOver'))
    report = tasks.cancel_many(JOB, [TASK], False, False, concurrency=1)[0]
    assert report.outcome == 'not_cancellable' and 'the job is cuttingOver' in report.message
    assert sent(kit)[-1] == ('GET', job_path(JOB))


def test_a_wave_with_throttling_retries_and_warns_once(quick_batches):
    answers = {TASK: [(429, {'Retry-After': '0'}, {}), (202, {}, ACCEPTED)], TASK2: [(202, {}, ACCEPTED)]}
    tasks, _kit, warnings, service, _ticks = wave(answers)
    reports = tasks.cancel_many(JOB, [TASK, TASK2], False, False, concurrency=1)
    assert [report.outcome for report in reports] == ['cancelled', 'cancelled'] and len(service.envelopes) == 2
    assert warnings == ['Graph throttled or failed part of the $batch requests: 1 sub-request(s) and 0 $batch request(s) were sent again '
                        '(1 throttled).']


def test_a_wave_conflict_after_a_sub_request_in_doubt_follows_the_evidence_rule(quick_batches):
    answers = {TASK: [(502, {'Retry-After': '0'}, {}), (409, {}, CONFLICT)]}
    tasks, _kit, _warnings, _service, _ticks = wave(answers, listing=[task(TASK, updated=iso(5), Exchange='pendingCancel')])
    report = tasks.cancel_many(JOB, [TASK], False, False, concurrency=1)[0]
    assert report.outcome == 'cancelled' and report.changed and not report.in_doubt


def test_a_wave_task_missing_from_the_listing_fails(quick_batches):
    tasks, _kit, _warnings, _service, _ticks = wave({TASK: [(409, {}, CONFLICT)]}, listing=[], the_job=job())
    report = tasks.cancel_many(JOB, [TASK], False, False, concurrency=1)[0]
    assert report.outcome == 'failed' and 'the task is not in the listing of job %s' % JOB in report.message


def test_a_wave_whose_listing_fails_fails_every_conflict(quick_batches):
    tasks, kit, _warnings, service, _ticks = wave({TASK: [(409, {}, CONFLICT)], TASK2: [(409, {}, CONFLICT)]})
    service.on('GET', tasks_path(JOB), reply(403, graph_error('Forbidden', 'no')))
    reports = tasks.cancel_many(JOB, [TASK, TASK2], False, False, concurrency=1)
    assert [report.outcome for report in reports] == ['failed', 'failed']
    assert "listing the job's tasks to tell why failed" in reports[0].message and 'CrossTenantContentMigration.Read.All' in reports[0].message


def test_a_wave_without_answers_fails_each_task_with_the_reason():
    tls = TransportError(TransportError.TLS, 'graph.example', 'the TLS connection to graph.example failed (certificate verify failed)',
                         may_have_reached=False)
    tasks, _kit, _warnings = canceller(GraphService().on('POST', '/$batch', tls))
    reports = tasks.cancel_many(JOB, [TASK, TASK2], False, False, concurrency=1)
    assert all(report.outcome == 'failed' and not report.in_doubt and report.status_code is None for report in reports)
    assert reports[0].message.startswith('Cancelling task %s got no answer: POST /$batch: the TLS connection' % TASK)


def test_a_wave_in_check_mode_reads_once_and_posts_nothing():
    service = (GraphService().on('GET', tasks_path(JOB), reply(200, {'value': [task(TASK, Exchange='inProgress'), task(TASK2, Exchange='completed')]}))
               .on('GET', job_path(JOB), reply(200, job())))
    tasks, kit, _warnings = canceller(service)
    reports = tasks.cancel_many(JOB, [TASK, TASK2, TASK3], True, True, concurrency=4)
    assert [report.outcome for report in reports] == ['cancelled', 'not_cancellable', 'not_found']
    assert reports[2].message == 'Task %s is not part of job %s.' % (TASK3, JOB)
    assert reports[0].after == {'Exchange': 'pendingCancel'} and reports[1].after == {'Exchange': 'completed'}
    assert sent(kit) == [('GET', tasks_path(JOB)), ('GET', job_path(JOB))] and not any(report.cancel_sent for report in reports)
