# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The four modules end to end in-process: real AnsibleModule, real msal, real Graph client,
with a recording fake transport answering as Entra ID and Graph would."""

from __future__ import annotations

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._migration import wait as wait_module
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import (
    JOBS_PATH,
    job_cancel_path,
    job_path,
    task_cancel_path,
    task_path,
    tasks_path,
)
from ansible_collections.msgraph.migrations.plugins.modules import (
    crosstenant_migration_job_cancel,
    crosstenant_migration_job_info,
    crosstenant_migration_task_cancel,
    crosstenant_migration_task_info,
)

from ansible_collections.msgraph.migrations.tests.unit.fakes import (
    CLIENT_ID,
    JOB,
    TASK,
    TENANT,
    EntraService,
    GraphService,
    graph_error,
    job,
    reply,
    task,
)
from ansible_collections.msgraph.migrations.tests.unit.module_harness import FailJson, Harness

GRAPH_ROOT = 'https://graph.microsoft.com/v1.0'
AUTHORITY = 'https://login.microsoftonline.com/' + TENANT
CREDENTIALS = dict(tenant_id=TENANT, client_id=CLIENT_ID, client_secret='client-secret-value-1234')
TASK2 = '6a88de8d-7027-44c1-8674-03f826aa1705'
ACCEPTED = {'status': 'Accepted', 'message': 'Cancellation request for user id: %s from batch: %s was accepted.' % (TASK, JOB)}
CONFLICT = graph_error('Conflict', 'Cancel is not possible. Current status is completed')


@pytest.fixture
def graph():
    return GraphService(GRAPH_ROOT)


@pytest.fixture
def harness(monkeypatch, graph):
    """Entra ID and Graph behind the module's transport."""
    entra = EntraService(AUTHORITY)

    def handler(sent):
        return entra(sent) if sent.url.startswith('https://login.microsoftonline.com/') else graph(sent)

    return Harness(monkeypatch, handler)


def graph_requests(harness):
    return [(sent.method, sent.url[len(GRAPH_ROOT):]) for sent in harness.sent if sent.url.startswith(GRAPH_ROOT)]


def test_task_cancel_accepted(harness, graph):
    graph.on('POST', task_cancel_path(JOB, TASK), reply(202, ACCEPTED))
    result = harness.run(crosstenant_migration_task_cancel.main, dict(job_id=JOB.upper(), task_id=TASK.upper(), **CREDENTIALS))
    assert result['changed'] and result['outcome'] == 'cancelled' and result['job_id'] == JOB and result['task_id'] == TASK
    assert result['cancel_response'] == ACCEPTED and result['status_code'] == 202 and result['cancel_sent']
    assert [sent.url for sent in harness.sent] == [AUTHORITY + '/v2.0/.well-known/openid-configuration', AUTHORITY + '/oauth2/v2.0/token',
                                                   GRAPH_ROOT + task_cancel_path(JOB, TASK)]
    assert harness.sent[-1].headers['Authorization'] == 'Bearer access-token-1' and harness.warnings == []


def test_task_cancel_conflict_warns_or_fails_when_asked(harness, graph):
    graph.on('POST', task_cancel_path(JOB, TASK), reply(409, CONFLICT)).on('GET', task_path(JOB, TASK), reply(200, task(Exchange='completed')))
    result = harness.run(crosstenant_migration_task_cancel.main, dict(job_id=JOB, task_id=TASK, **CREDENTIALS))
    assert not result['changed'] and result['outcome'] == 'not_cancellable' and result['blocking_workloads'] == {'Exchange': 'completed'}
    assert len(harness.warnings) == 1 and harness.warnings[0].endswith('Set fail_on_conflict to true to fail instead.')
    with pytest.raises(FailJson) as caught:
        harness.run(crosstenant_migration_task_cancel.main, dict(job_id=JOB, task_id=TASK, fail_on_conflict=True, **CREDENTIALS))
    failure = caught.value.result
    assert failure['outcome'] == 'not_cancellable' and failure['job_id'] == JOB and failure['task_id'] == TASK
    assert 'workload Exchange is completed' in failure['msg']


def test_task_cancel_check_mode_sends_no_cancel(harness, graph):
    graph.on('GET', task_path(JOB, TASK), reply(200, task(Exchange='inProgress'))).on('GET', job_path(JOB), reply(200, job()))
    args = dict(job_id=JOB, task_id=TASK, _ansible_check_mode=True, _ansible_diff=True, **CREDENTIALS)
    result = harness.run(crosstenant_migration_task_cancel.main, args)
    assert result['changed'] and not result['cancel_sent']
    assert result['diff']['after'] == {'workloads': {'Exchange': 'pendingCancel'}}
    assert [method for method, _path in graph_requests(harness)] == ['GET', 'GET']


def test_task_cancel_a_wave_deduplicates_ids_and_reports_each(harness, graph):
    graph.batch = lambda sub, attempt: (202, {}, ACCEPTED) if TASK in sub['url'] else (404, {}, graph_error('NotFound', 'not in job'))
    with pytest.raises(FailJson) as caught:
        harness.run(crosstenant_migration_task_cancel.main, dict(job_id=JOB, task_ids=[TASK, TASK2, TASK.upper()], **CREDENTIALS))
    failure = caught.value.result
    assert failure['changed'] and [entry['task_id'] for entry in failure['results']] == [TASK, TASK2]
    assert failure['summary']['cancelled'] == 1 and failure['summary']['not_found'] == 1 and failure['summary']['total'] == 2
    assert failure['msg'].startswith('1 of 2 task(s) did not end as asked (1 cancelled, 1 not_found); every id was tried.')
    assert len(graph.envelopes) == 1 and len(graph.envelopes[0]) == 2


def test_task_cancel_waits_until_the_cancel_took_effect(harness, graph, monkeypatch):
    monkeypatch.setattr(wait_module, 'FIRST_POLL_SECONDS', 0.01)
    graph.on('POST', task_cancel_path(JOB, TASK), reply(202, ACCEPTED))
    graph.on('GET', task_path(JOB, TASK), reply(200, task(Exchange='pendingCancel')), reply(200, task(Exchange='cancelled')))
    result = harness.run(crosstenant_migration_task_cancel.main, dict(job_id=JOB, task_id=TASK, wait=True, wait_timeout=60, **CREDENTIALS))
    assert result['changed'] and result['task'] == task(Exchange='cancelled')
    assert graph_requests(harness) == [('POST', task_cancel_path(JOB, TASK)), ('GET', task_path(JOB, TASK)), ('GET', task_path(JOB, TASK))]


def test_task_cancel_wait_timeout_fails_with_what_is_still_pending(harness, graph):
    graph.on('POST', task_cancel_path(JOB, TASK), reply(202, ACCEPTED)).on('GET', task_path(JOB, TASK), reply(200, task(Exchange='pendingCancel')))
    with pytest.raises(FailJson) as caught:
        harness.run(crosstenant_migration_task_cancel.main, dict(job_id=JOB, task_id=TASK, wait=True, wait_timeout=1, **CREDENTIALS))
    failure = caught.value.result
    assert failure['changed'] and failure['still_pending'] == [TASK] and failure['outcome'] == 'cancelled'
    assert failure['msg'] == ('Waited 1 s (wait_timeout) and this task is still pendingCancel: %s. The cancel was accepted; Graph has not '
                              'finished it yet.' % TASK)


@pytest.mark.parametrize('args, words', [
    (dict(task_id=TASK, batch_concurrency=0), 'Invalid value for option batch_concurrency: expected an integer from 1 to 8, got 0.'),
    (dict(task_id=TASK, wait=True, wait_timeout=0), 'Invalid value for option wait_timeout'),
    (dict(task_ids=[TASK, TASK + '/../x']), 'Invalid value for option task_ids[1]'),
    (dict(task_id=TASK, task_ids=[TASK]), 'mutually exclusive'),
    (dict(), 'one of the following is required: task_id, task_ids'),
])
def test_task_cancel_option_errors_send_nothing(harness, args, words):
    with pytest.raises(FailJson) as caught:
        harness.run(crosstenant_migration_task_cancel.main, dict(job_id=JOB, **dict(CREDENTIALS, **args)))
    assert words in caught.value.result['msg'] and harness.sent == []


def test_job_cancel_accepted_and_refused(harness, graph):
    graph.on('POST', job_cancel_path(JOB), reply(202, {'id': JOB, 'displayName': 'Wave 1', 'status': 'pendingCancel'}))
    result = harness.run(crosstenant_migration_job_cancel.main, dict(job_id=JOB, **CREDENTIALS))
    assert result['changed'] and result['outcome'] == 'cancelled' and result['job_id'] == JOB
    graph.on('POST', job_cancel_path(JOB), reply(409, CONFLICT)).on('GET', job_path(JOB), reply(200, job('completed')))
    with pytest.raises(FailJson) as caught:
        harness.run(crosstenant_migration_job_cancel.main, dict(job_id=JOB, fail_on_conflict=True, **CREDENTIALS))
    assert caught.value.result['outcome'] == 'not_cancellable' and 'the job is completed' in caught.value.result['msg']
    assert caught.value.result['job'] == job('completed')


def test_task_info_filters_by_state_and_counts_all(harness, graph):
    graph.on('GET', job_path(JOB), reply(200, job()))
    graph.on('GET', tasks_path(JOB), reply(200, {'value': [task(TASK, Exchange='inProgress'), task(TASK2.upper(), Exchange='completed')]}))
    result = harness.run(crosstenant_migration_task_info.main, dict(job_id=JOB, state=['not_cancellable'], **CREDENTIALS))
    assert not result['changed'] and result['task_ids'] == [TASK2]
    assert result['tasks'][0]['state'] == 'not_cancellable' and result['tasks'][0]['blocking_workloads'] == {'Exchange': 'completed'}
    assert result['counts'] == {'cancellable': 1, 'in_progress': 1, 'not_cancellable': 1, 'completed': 1}
    assert all(method == 'GET' for method, _path in graph_requests(harness))


def test_job_info_lists_jobs_with_their_state(harness, graph):
    graph.on('GET', JOBS_PATH, reply(200, {'value': [job(), dict(job('cuttingOver'), id=TASK.upper())]}))
    result = harness.run(crosstenant_migration_job_info.main, dict(**CREDENTIALS))
    assert result['job_ids'] == [JOB, TASK]
    assert [(entry['cancellable'], entry['state']) for entry in result['jobs']] == [(True, 'cancellable'), (False, 'not_cancellable')]


def test_job_info_forbidden_names_the_read_permission(harness, graph):
    graph.on('GET', job_path(JOB), reply(403, graph_error('Authorization_RequestDenied', 'Insufficient privileges')))
    with pytest.raises(FailJson) as caught:
        harness.run(crosstenant_migration_job_info.main, dict(job_id=JOB, **CREDENTIALS))
    failure = caught.value.result
    assert 'CrossTenantContentMigration.Read.All' in failure['msg'] and failure['job_id'] == JOB and failure['status_code'] == 403
