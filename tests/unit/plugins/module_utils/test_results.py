# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shaping outcomes into Ansible results (_ansible/results.py): changed, failures, warnings, diffs, summaries."""

from __future__ import annotations

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.results import (
    bulk_task_result,
    conclude,
    job_result,
    single_task_result,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import CancelReport
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.jobs import JobCancelReport

from ansible_collections.msgraph.migrations.tests.unit.fakes import JOB, TASK


def report(outcome, task_id=TASK, **fields):
    return CancelReport(task_id=task_id, outcome=outcome, message='%s: %s' % (task_id, outcome), **fields)


def test_a_cancelled_task_is_changed_with_its_facts():
    shaped = single_task_result(report('cancelled', status_code=202, request_id='r', cancel_sent=True,
                                       cancel_response={'status': 'Accepted', 'message': 'm'}), False, False, False)
    assert shaped.failure is None and shaped.warnings == []
    assert shaped.fields == {'changed': True, 'outcome': 'cancelled', 'conflict': False, 'conflict_reason': None, 'status_code': 202,
                             'request_id': 'r', 'cancel_sent': True, 'cancel_in_doubt': False, 'blocking_workloads': {},
                             'cancel_response': {'status': 'Accepted', 'message': 'm'}}


def test_not_cancellable_warns_or_fails_when_asked():
    blocked = report('not_cancellable', conflict=True, conflict_reason='not_cancellable', blocking={'Exchange': 'completed'})
    shaped = single_task_result(blocked, fail_on_conflict=False, want_diff=False, check_mode=False)
    assert shaped.failure is None and not shaped.fields['changed'] and shaped.fields['blocking_workloads'] == {'Exchange': 'completed'}
    assert shaped.warnings == ['%s: not_cancellable Set fail_on_conflict to true to fail instead.' % TASK]
    assert single_task_result(blocked, False, False, check_mode=True).warnings == ['%s: not_cancellable' % TASK]
    assert single_task_result(blocked, fail_on_conflict=True, want_diff=False, check_mode=False).failure == '%s: not_cancellable' % TASK


@pytest.mark.parametrize('outcome, fails', [('already_cancelled', False), ('not_found', True), ('failed', True), ('cancelled', False)])
def test_which_outcomes_fail_even_with_fail_on_conflict(outcome, fails):
    """already_cancelled is the state asked for: never a failure, even with fail_on_conflict."""
    assert (single_task_result(report(outcome), True, False, False).failure is not None) is fails


def test_the_diff_shows_workloads_before_and_after():
    shaped = single_task_result(report('cancelled', before={'Exchange': 'inProgress'}, after={'Exchange': 'pendingCancel'}), False, True, False)
    assert shaped.fields['diff'] == {'before': {'workloads': {'Exchange': 'inProgress'}}, 'after': {'workloads': {'Exchange': 'pendingCancel'}},
                                     'before_header': 'task %s' % TASK, 'after_header': 'task %s' % TASK}
    assert 'diff' not in single_task_result(report('cancelled', before={'Exchange': 'inProgress'}), False, False, False).fields


def test_a_bulk_result_has_one_entry_per_task_and_a_summary():
    reports = [report('cancelled', 't1', after={'E': 'pendingCancel'}), report('already_cancelled', 't2'),
               report('not_cancellable', 't3', conflict=True, before={'E': 'completed'}), report('cancelled', 't4', in_doubt=True)]
    shaped = bulk_task_result(reports, fail_on_conflict=False, want_diff=False)
    assert shaped.failure is None and shaped.fields['changed'] and shaped.fields['conflict']
    assert shaped.fields['summary'] == {'cancelled': 2, 'already_cancelled': 1, 'not_cancellable': 1, 'unknown': 0, 'not_found': 0, 'failed': 0,
                                        'total': 4, 'in_doubt': 1}
    assert [entry['task_id'] for entry in shaped.fields['results']] == ['t1', 't2', 't3', 't4']
    assert shaped.fields['results'][0]['workloads'] == {'E': 'pendingCancel'} and shaped.fields['results'][2]['workloads'] == {'E': 'completed'}
    assert shaped.warnings == ['1 of 4 task(s) can no longer be cancelled (outcome not_cancellable; see results); '
                               '2 cancelled, 1 already_cancelled, 1 not_cancellable.']


def test_a_bulk_failure_counts_and_names_the_first_failing_task():
    reports = [report('cancelled', 't1'), report('failed', 't2', in_doubt=True), report('not_found', 't3')]
    shaped = bulk_task_result(reports, False, False)
    assert shaped.failure == ('2 of 3 task(s) did not end as asked (1 cancelled, 1 not_found, 1 failed); every id was tried. First: t2: t2: failed '
                              '1 cancel(s) may have been carried out without a usable reply (cancel_in_doubt).')
    assert shaped.fields['changed'], 'what was cancelled is reported as changed even when the task fails'


def test_bulk_warnings_are_capped():
    reports = [report('cancelled', 't%d' % number, warnings=['w%d' % number]) for number in range(30)]
    assert len(bulk_task_result(reports, False, False).warnings) == 20


def test_a_job_result():
    cancelled = JobCancelReport(job_id=JOB, outcome='cancelled', before='inProgress', after='pendingCancel', job={'id': JOB}, message='ok')
    shaped = job_result(cancelled, False, True, False)
    assert shaped.fields['changed'] and shaped.fields['job'] == {'id': JOB}
    assert shaped.fields['diff']['before'] == {'status': 'inProgress'} and shaped.fields['diff']['after'] == {'status': 'pendingCancel'}
    refused = JobCancelReport(job_id=JOB, outcome='not_cancellable', conflict=True, message='no')
    assert job_result(refused, True, False, False).failure == 'no'
    assert job_result(refused, False, False, False).warnings == ['no Set fail_on_conflict to true to fail instead.']


def test_conclude_warns_then_returns_or_raises_with_the_same_fields():
    warnings = []
    ok = single_task_result(report('not_cancellable', conflict=True), False, False, False)
    assert conclude(ok, warnings.append) is ok.fields and len(warnings) == 1
    failing = single_task_result(report('failed', status_code=500), False, False, False)
    with pytest.raises(GraphMigrationsError) as caught:
        conclude(failing, warnings.append)
    assert caught.value.message == '%s: failed' % TASK and caught.value.result['status_code'] == 500
