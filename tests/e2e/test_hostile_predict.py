# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Odd task and job data is never predicted cancellable (bulk and single check mode, task_info, job_info, job_cancel),
and a "segment not found" answer names the API version, end to end."""

from __future__ import annotations

import json

from conftest import JOB, MISSING, TASK_ACTIVE, TASK_ACTIVE_2, base_scenario

# Tasks whose data this collection cannot judge, each with the words its state_reason must hold.
ODD = {
    '0dd00000-0000-4000-8000-000000000001': ({'omit': ['currentStatus']}, 'the task has no currentStatus'),
    '0dd00000-0000-4000-8000-000000000002': ({'currentStatus': []}, 'currentStatus lists no workload'),
    '0dd00000-0000-4000-8000-000000000003': ({'currentStatus': 'inProgress'}, 'currentStatus is a string, not a list'),
    '0dd00000-0000-4000-8000-000000000004': ({'currentStatus': [{'service': 'Exchange', 'status': None}]}, 'workload Exchange has no status'),
    '0dd00000-0000-4000-8000-000000000005': ({'workloads': {'Exchange': 'readyForCutover'}}, "Exchange is 'readyForCutover', a status this"),
    '0dd00000-0000-4000-8000-000000000006': ({'workloads': {'Exchange': 'completed ', 'ODSP': 'notStarted'}}, "Exchange is 'completed '"),
    '0dd00000-0000-4000-8000-000000000007': ({'workloads': {'Exchange': 'unknownFutureValue'}}, 'Exchange is unknownFutureValue'),
    '0dd00000-0000-4000-8000-000000000008': ({'workloads': [{'service': 'Exchange', 'status': 'inProgress'},
                                                            {'service': 'Exchange', 'status': 'syncing'}]}, 'Exchange is listed twice'),
}
T_STRING = '0dd00000-0000-4000-8000-000000000003'
T_READY = '0dd00000-0000-4000-8000-000000000005'
JOB_NO_STATUS = '0dd0b000-0000-4000-8000-000000000001'
JOB_FUTURE = '0dd0b000-0000-4000-8000-000000000002'
SEGMENT_HINT_V1 = 'Set api_version: beta.'
SEGMENT_HINT_BETA = 'api_version is already beta'


def odd_scenario(**settings):
    scenario = base_scenario()
    scenario['settings'].update(settings)
    scenario['jobs'][0]['tasks'].extend(dict(fields, id=task_id) for task_id, (fields, _words) in ODD.items())
    scenario['jobs'].append({'id': JOB_NO_STATUS, 'omit': ['status'], 'tasks': [TASK_ACTIVE]})
    scenario['jobs'].append({'id': JOB_FUTURE, 'status': 'unknownFutureValue', 'tasks': [TASK_ACTIVE]})
    return scenario


def module(harness, name, ignore_errors=False, **options):
    args = harness.connection()
    args.update(options)
    step = {'name': name, 'msgraph.migrations.%s' % name: {k: v for k, v in args.items() if v is not None}}
    if ignore_errors:
        step['ignore_errors'] = True
    return step


def assert_no_cancel_sent(harness):
    assert harness.cancel_posts() == [] and harness.requests(kind='batch') == []


def test_bulk_check_mode_predicts_odd_tasks_unknown_never_cancelled(harness):
    harness.emu.reset(odd_scenario())
    run = harness.play([harness.cancel_task(task_id=None, task_ids=[TASK_ACTIVE] + list(ODD))], args=('--check', '--diff'))
    assert run.rc == 0, run.output
    result = run.result()
    by_id = {entry['task_id']: entry for entry in result['results']}
    assert by_id[TASK_ACTIVE]['outcome'] == 'cancelled'
    for task_id, (_fields, words) in ODD.items():
        entry = by_id[task_id]
        assert entry['outcome'] == 'unknown', (task_id, entry)
        assert entry['conflict_reason'] is None and entry['cancel_sent'] is False
        assert 'cannot be told' in entry['message'] and words in entry['message'], entry['message']
    assert result['summary']['unknown'] == len(ODD) and result['summary']['cancelled'] == 1
    assert result['summary']['total'] == len(ODD) + 1
    assert len([w for w in result['warnings'] if 'cannot be told' in w]) == len(ODD)
    assert_no_cancel_sent(harness)


def test_single_check_mode_uses_the_same_rule(harness):
    harness.emu.reset(odd_scenario())
    steps = [dict(harness.cancel_task(task_id=task_id), ignore_errors=True) for task_id in (T_STRING, T_READY)]
    run = harness.play(steps, args=('--check',))
    for index, task_id in enumerate((T_STRING, T_READY)):
        result = run.result(index)
        assert run.status(index) == 'ok', result
        assert result['outcome'] == 'unknown' and result['changed'] is False and result['conflict'] is False
        assert result['task']['id'] == task_id
        assert ODD[task_id][1] in result['warnings'][0]
    assert_no_cancel_sent(harness)


def test_task_info_keeps_odd_tasks_out_of_cancellable_and_task_ids(harness):
    harness.emu.reset(odd_scenario())
    run = harness.play([module(harness, 'crosstenant_migration_task_info', job_id=JOB, state=['cancellable']),
                        module(harness, 'crosstenant_migration_task_info', job_id=JOB, state=['unknown'])])
    assert run.rc == 0, run.output
    cancellable, unknown = run.result(0), run.result(1)
    assert cancellable['task_ids'] == [TASK_ACTIVE, TASK_ACTIVE_2]
    assert cancellable['counts']['unknown'] == len(ODD)
    assert sorted(unknown['task_ids']) == sorted(ODD)
    for entry in unknown['tasks']:
        assert entry['state'] == 'unknown' and ODD[entry['id']][1] in entry['state_reason']
    assert any('%d task(s) have data this collection cannot judge' % len(ODD) in w for w in cancellable['warnings'])


def test_jobs_with_a_missing_or_unknown_future_status_are_not_cancellable(harness):
    harness.emu.reset(odd_scenario())
    steps = [module(harness, 'crosstenant_migration_job_info'),
             module(harness, 'crosstenant_migration_job_cancel', job_id=JOB_NO_STATUS),
             module(harness, 'crosstenant_migration_job_cancel', job_id=JOB_FUTURE),
             module(harness, 'crosstenant_migration_task_info', job_id=JOB_NO_STATUS, state=['cancellable'])]
    run = harness.play(steps, args=('--check', '--diff'))
    assert run.rc == 0, run.output
    jobs = {entry['id']: entry for entry in run.result(0)['jobs']}
    for job_id, words in ((JOB_NO_STATUS, 'the job has no status'), (JOB_FUTURE, 'unknownFutureValue')):
        assert jobs[job_id]['cancellable'] is False and jobs[job_id]['state'] == 'unknown' and words in jobs[job_id]['state_reason']
    assert jobs[JOB]['cancellable'] is True
    for index in (1, 2):
        cancel = run.result(index)
        assert cancel['outcome'] == 'unknown' and cancel['changed'] is False and cancel['conflict'] is False
        assert 'None' not in json.dumps(cancel['diff']) and cancel['diff']['before'] == cancel['diff']['after']
    assert run.result(1)['diff']['before'] == {'status': '(no status)'}
    # A task in a job whose status cannot be judged is not predicted cancellable either.
    assert run.result(3)['task_ids'] == [] and run.result(3)['counts'] == {'unknown': 1, 'in_progress': 1}
    assert_no_cancel_sent(harness)


def test_a_real_run_still_sends_every_cancel_and_explains_a_409_on_odd_data(harness):
    harness.emu.reset(odd_scenario())
    harness.emu.add_fault({'match': {'path': '/users/%s/cancel$' % T_READY}, 'status': 409, 'error_code': 'Conflict',
                           'error_message': 'Cancel is not possible. Current status is readyForCutover'})
    run = harness.play([harness.cancel_task(task_id=None, task_ids=list(ODD))])
    assert run.rc == 0, run.output
    by_id = {entry['task_id']: entry for entry in run.result()['results']}
    assert sorted(e['batch_request_id'] for e in harness.cancel_posts()) == sorted(ODD), 'Graph judges: every cancel is sent'
    assert all(entry['outcome'] == 'cancelled' for task_id, entry in by_id.items() if task_id != T_READY)
    refused = by_id[T_READY]
    assert refused['outcome'] == 'not_cancellable' and refused['conflict_reason'] == 'not_cancellable'
    assert 'its data does not say why' in refused['message'] and "'readyForCutover'" in refused['message']


def test_the_segment_error_on_v1_suggests_beta(harness):
    harness.emu.reset(odd_scenario(api_versions=['beta']))
    run = harness.play(segment_steps(harness, 'v1.0'))
    check_segment_results(harness, run, SEGMENT_HINT_V1, 'Graph v1.0 does not know')


def test_the_segment_error_on_beta_says_beta_is_already_used(harness):
    harness.emu.reset(odd_scenario(api_versions=['v1.0']))
    run = harness.play(segment_steps(harness, 'beta'))
    check_segment_results(harness, run, SEGMENT_HINT_BETA, 'Graph beta does not know')
    assert SEGMENT_HINT_V1 not in run.output


def segment_steps(harness, version):
    return [dict(harness.cancel_task(api_version=version), ignore_errors=True),
            dict(harness.cancel_task(task_id=None, task_ids=[TASK_ACTIVE, T_READY], api_version=version), ignore_errors=True),
            module(harness, 'crosstenant_migration_task_info', ignore_errors=True, job_id=JOB, api_version=version),
            module(harness, 'crosstenant_migration_job_info', ignore_errors=True, api_version=version),
            module(harness, 'crosstenant_migration_job_cancel', ignore_errors=True, job_id=JOB, api_version=version),
            # A missing job on the served version keeps its own hint.
            dict(harness.cancel_task(job_id=MISSING, api_version='beta' if version == 'v1.0' else 'v1.0'), ignore_errors=True)]


def check_segment_results(harness, run, hint, words):
    for index in range(5):
        assert run.status(index) == 'failed', run.result(index)
        assert hint in run.result(index)['msg'] and words in run.result(index)['msg'], run.result(index)['msg']
        assert "the resource segment 'migrations'" in run.result(index)['msg']
    single, bulk, job_cancel = run.result(0), run.result(1), run.result(4)
    assert single['outcome'] == 'failed' and single['status_code'] == 400 and single['cancel_sent'] is True
    assert single['cancel_in_doubt'] is False and single['error']['code'] == 'BadRequest'
    assert job_cancel['outcome'] == 'failed' and job_cancel['status_code'] == 400
    assert [entry['outcome'] for entry in bulk['results']] == ['failed', 'failed']
    assert all(hint in entry['message'] for entry in bulk['results']) and bulk['summary']['failed'] == 2
    assert run.result(2)['status_code'] == 400 and run.result(3)['status_code'] == 400
    missing = run.result(5)
    assert missing['outcome'] == 'not_found' and 'was not found' in missing['msg'] and hint not in missing['msg']
    # Nothing was cancelled by the refused requests.
    assert harness.emu.task(JOB, TASK_ACTIVE)['currentStatus'][0]['status'] == 'inProgress'
