# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import datetime

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils.errors import GraphMigrationsError, GraphRequestError, OptionError
from ansible_collections.msgraph.migrations.plugins.module_utils.graph_client import GraphResponse
from ansible_collections.msgraph.migrations.plugins.module_utils.migration import (
    CancelVerdict,
    TaskCanceller,
    assess_task,
    job_cancel_blocker,
    judge_cancel_status,
    task_cancel_path,
    validate_guid,
)

JOB = 'add14989-2b21-4001-81bd-a18b0bac1dea'
TASK = '6a88de8d-7027-44c1-8674-03f826aa1704'


def test_validate_guid_accepts_guids_and_lowercases():
    assert validate_guid('job_id', JOB.upper()) == JOB


@pytest.mark.parametrize('bad', [
    '', ' ', '../x', JOB + 'x', JOB + '\n', JOB + '/cancel', '{%s}' % JOB, JOB.replace('-', ''),
    '%2e%2e%2f', JOB[:-1] + '%', JOB[:-1] + 'g', 'add14989-2b21-4001-81bd-a18b0bac1de\u0430', None, 42,
])
def test_validate_guid_rejects_everything_else_naming_the_option(bad):
    with pytest.raises(OptionError) as caught:
        validate_guid('task_id', bad)
    assert caught.value.option == 'task_id'
    assert 'task_id' in str(caught.value) and 'GUID' in str(caught.value)


def test_cancel_path():
    assert task_cancel_path(JOB, TASK) == '/solutions/migrations/crossTenantMigrationJobs/%s/users/%s/cancel' % (JOB, TASK)


def task(**workloads):
    return {'id': TASK, 'currentStatus': [{'service': k, 'status': v, 'message': '', 'errors': []} for k, v in workloads.items()]}


def test_assess_task():
    assert assess_task(task(Exchange='inProgress', ODSP='notStarted')).cancellable
    blocked = assess_task(task(Exchange='Completed', Teams='inProgress'))
    assert not blocked.cancellable and blocked.blocking == {'Exchange': 'Completed'}
    assert assess_task(task(Exchange='pendingCancel', Teams='CANCELLED')).cancel_in_effect
    assert not assess_task(task(Exchange='pendingCancel', Teams='inProgress')).cancel_in_effect
    assert not assess_task(task()).cancel_in_effect
    assert assess_task(task(Exchange='somethingNew')).unknown == {'Exchange': 'somethingNew'}


@pytest.mark.parametrize('status, verdict', [
    (200, CancelVerdict.ACCEPTED), (202, CancelVerdict.ACCEPTED), (204, CancelVerdict.ACCEPTED),
    (409, CancelVerdict.CONFLICT), (404, CancelVerdict.NOT_FOUND), (403, CancelVerdict.FAILED), (500, CancelVerdict.FAILED),
])
def test_judge_cancel_status(status, verdict):
    assert judge_cancel_status(status) is verdict


def reply(method, status, body=None, maybe_applied=False):
    return GraphResponse(method=method, path='/p', status=status, headers={}, body=body, request_id='rid-%d' % status,
                         earlier_attempt_maybe_applied=maybe_applied)


class FakeClient:
    def __init__(self, *replies):
        self.replies = list(replies)
        self.sent = []

    def send(self, method, path, json_body=None):
        self.sent.append((method, path))
        return self.replies.pop(0)


CONFLICT = {'error': {'code': 'Conflict', 'message': 'Cancel is not possible. Current status is completed'}}
ACCEPTED = {'status': 'Accepted', 'message': 'Cancellation request ... was accepted.'}


def run(client, fail_on_conflict=False, check_mode=False, want_diff=False):
    warnings = []
    result = TaskCanceller(client, warnings.append).cancel(JOB, TASK, fail_on_conflict, check_mode, want_diff)
    return result, warnings


def test_accepted_cancel_is_changed():
    client = FakeClient(reply('POST', 202, ACCEPTED))
    result, warnings = run(client)
    assert result['changed'] and not result['conflict'] and result['status_code'] == 202
    assert result['cancel_response'] == {'status': 'Accepted', 'message': ACCEPTED['message']}
    assert client.sent == [('POST', task_cancel_path(JOB, TASK))] and warnings == []


def test_conflict_is_ok_with_a_warning_or_fails_when_asked():
    result, warnings = run(FakeClient(reply('POST', 409, CONFLICT)))
    assert not result['changed'] and result['conflict'] and result['error']['code'] == 'Conflict'
    assert len(warnings) == 1 and '409' in warnings[0]
    with pytest.raises(GraphRequestError) as caught:
        run(FakeClient(reply('POST', 409, CONFLICT)), fail_on_conflict=True)
    assert '409' in caught.value.message and 'Current status is completed' in caught.value.message
    assert caught.value.result['conflict'] is True


def test_conflict_after_a_lost_reply_is_our_own_cancel_when_the_task_shows_it():
    client = FakeClient(reply('POST', 409, CONFLICT, maybe_applied=True), reply('GET', 200, task(Exchange='pendingCancel')))
    result, warnings = run(client, fail_on_conflict=True)
    assert result['changed'] and not result['conflict']
    assert 'lost' in warnings[0]
    assert client.sent[1][0] == 'GET'


def test_conflict_after_a_lost_reply_stays_a_conflict_when_the_task_is_completed():
    client = FakeClient(reply('POST', 409, CONFLICT, maybe_applied=True), reply('GET', 200, task(Exchange='completed')))
    result = run(client)[0]
    assert not result['changed'] and result['conflict']


@pytest.mark.parametrize('status, words', [(404, 'not part of it'), (403, 'CrossTenantContentMigration.ReadWrite.All')])
def test_not_found_and_forbidden_fail_with_guidance(status, words):
    with pytest.raises(GraphRequestError) as caught:
        run(FakeClient(reply('POST', status, {'error': {'code': 'X', 'message': 'm'}})))
    assert words in caught.value.message and caught.value.result['status_code'] == status


ACTIVE_JOB = {'id': JOB, 'status': 'inProgress', 'completeAfterDateTime': '2099-01-01T00:00:00Z'}


def test_check_mode_reads_and_predicts_without_posting():
    client = FakeClient(reply('GET', 200, task(Exchange='inProgress', Teams='notStarted')), reply('GET', 200, ACTIVE_JOB))
    result = run(client, check_mode=True, want_diff=True)[0]
    assert result['changed'] and [method for method, path in client.sent] == ['GET', 'GET']
    assert result['diff']['after'] == {'workloads': {'Exchange': 'pendingCancel', 'Teams': 'pendingCancel'}}
    assert result['status_code'] is None and result['request_id'] == 'rid-200'

    client = FakeClient(reply('GET', 200, task(Exchange='completed')), reply('GET', 200, ACTIVE_JOB))
    result, warnings = run(client, check_mode=True)
    assert not result['changed'] and result['conflict'] and 'Exchange is completed' in warnings[0]
    with pytest.raises(GraphMigrationsError, match='would be refused with 409'):
        run(FakeClient(reply('GET', 200, task(Exchange='completed')), reply('GET', 200, ACTIVE_JOB)), check_mode=True, fail_on_conflict=True)


@pytest.mark.parametrize('job, reason', [
    (dict(ACTIVE_JOB, status='cuttingOver'), 'the job is cuttingOver'),
    (dict(ACTIVE_JOB, completeAfterDateTime='2020-01-01T00:00:00.1234567Z'), 'completeAfterDateTime 2020-01-01T00:00:00.1234567Z has passed'),
])
def test_check_mode_predicts_a_conflict_from_the_job(job, reason):
    result, warnings = run(FakeClient(reply('GET', 200, task(Exchange='inProgress')), reply('GET', 200, job)), check_mode=True)
    assert not result['changed'] and result['conflict'] and reason in warnings[0]


def test_job_cancel_blocker():
    now = datetime.datetime(2026, 11, 29, tzinfo=datetime.timezone.utc)
    assert job_cancel_blocker(ACTIVE_JOB, now) is None
    assert job_cancel_blocker(dict(ACTIVE_JOB, status='CompletedWithErrors'), now) == 'the job is CompletedWithErrors'
    assert job_cancel_blocker(dict(ACTIVE_JOB, completeAfterDateTime='2026-11-28T23:59:59Z'), now)
    assert job_cancel_blocker(dict(ACTIVE_JOB, completeAfterDateTime='not a date'), now) is None


def test_read_permission_hint_on_a_forbidden_read():
    with pytest.raises(GraphRequestError, match='CrossTenantContentMigration.Read.All'):
        run(FakeClient(reply('GET', 403, {'error': {'code': 'Authorization_RequestDenied', 'message': 'no'}})), check_mode=True)


def test_diff_in_a_real_run():
    client = FakeClient(reply('GET', 200, task(Exchange='inProgress')), reply('POST', 202, ACCEPTED))
    result = run(client, want_diff=True)[0]
    assert result['diff']['before'] == {'workloads': {'Exchange': 'inProgress'}}
    assert result['diff']['after'] == {'workloads': {'Exchange': 'pendingCancel'}}
