# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bulk cancel through $batch, wait, the info modules and job cancel, end to end."""

from __future__ import annotations

import json
import uuid

import pytest

from conftest import JOB, MISSING, SECRET, TASK_ACTIVE, TASK_ACTIVE_2, TASK_CANCELLED, TASK_COMPLETED, base_scenario

TASKS = [TASK_ACTIVE, TASK_ACTIVE_2, TASK_COMPLETED, TASK_CANCELLED]


def wave_scenario(count, cancel_delay=60, **job):
    """The base scenario plus ``count`` cancellable users in the job; returns (scenario, their ids)."""
    scenario = base_scenario()
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, 'e2e-wave-%d' % index)) for index in range(count)]
    scenario['jobs'][0]['tasks'].extend({'id': task_id, 'workloads': {'Exchange': 'inProgress', 'ODSP': 'notStarted'}} for task_id in ids)
    scenario['jobs'][0].update(job)
    scenario['settings']['cancel_delay_seconds'] = cancel_delay
    return scenario, ids


def module(harness, name, **options):
    args = harness.connection()
    args.update(options)
    return {'name': name, 'msgraph.migrations.%s' % name: {k: v for k, v in args.items() if v is not None}}


def batch_posts(harness):
    return harness.requests(kind='batch', method='POST')


def test_bulk_cancel_judges_every_user_in_one_task(harness):
    ids = [TASK_ACTIVE, TASK_ACTIVE_2.upper(), TASK_COMPLETED, TASK_CANCELLED, MISSING, TASK_ACTIVE]
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids)])
    assert run.rc != 0, 'a user that is not in the job fails the task, after every id was tried'
    result = run.result()
    assert result['changed'] is True
    outcomes = {entry['task_id']: entry['outcome'] for entry in result['results']}
    assert outcomes == {TASK_ACTIVE: 'cancelled', TASK_ACTIVE_2: 'cancelled', TASK_COMPLETED: 'not_cancellable',
                        TASK_CANCELLED: 'already_cancelled', MISSING: 'not_found'}
    assert [entry['task_id'] for entry in result['results']] == [TASK_ACTIVE, TASK_ACTIVE_2, TASK_COMPLETED, TASK_CANCELLED, MISSING]
    assert result['summary'] == {'cancelled': 2, 'already_cancelled': 1, 'not_cancellable': 1, 'unknown': 0, 'not_found': 1, 'failed': 0,
                                 'total': 5, 'in_doubt': 0}
    assert '1 of 5 task(s) did not end as asked' in result['msg'] and MISSING in result['msg']
    by_id = {entry['task_id']: entry for entry in result['results']}
    assert by_id[TASK_COMPLETED]['blocking_workloads'] == {'Exchange': 'completed'}
    assert by_id[TASK_COMPLETED]['conflict_reason'] == 'not_cancellable'
    assert by_id[TASK_ACTIVE]['status_code'] == 202 and by_id[TASK_ACTIVE]['request_id']
    # One $batch carried all five cancels; the conflicts were judged from one listing, not a GET per task.
    assert len(batch_posts(harness)) == 1
    cancels = [e for e in harness.requests(kind='graph', method='POST') if e.get('batch_request_id')]
    assert sorted(e['batch_request_id'] for e in cancels) == sorted(set(i.lower() for i in ids))
    reads = [e['path'] for e in harness.requests(kind='graph', method='GET')]
    assert reads == ['/v1.0/solutions/migrations/crossTenantMigrationJobs/%s/users' % JOB]


def test_bulk_cancel_sends_20_per_batch_with_concurrency_and_is_safe_to_rerun(harness):
    scenario, ids = wave_scenario(95)
    harness.emu.reset(scenario)
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids, batch_concurrency=3)])
    assert run.rc == 0, run.output
    assert run.result()['summary']['cancelled'] == 95
    assert len(batch_posts(harness)) == 5
    accepted = [e for e in harness.requests(kind='graph', method='POST') if e.get('status') == 202]
    assert len(accepted) == 95

    rerun = harness.play([harness.cancel_task(task_id=None, task_ids=ids, fail_on_conflict=True)])
    assert rerun.rc == 0, rerun.output
    assert rerun.result()['changed'] is False and rerun.result()['summary']['already_cancelled'] == 95
    assert not rerun.result().get('warnings')


def test_bulk_throttled_sub_requests_are_retried_and_nothing_is_cancelled_twice(harness):
    scenario, ids = wave_scenario(60)
    harness.emu.reset(scenario)
    harness.emu.add_fault({'match': {'in_batch': True, 'path': '/cancel$'}, 'status': 429, 'retry_after': '0.3',
                           'times': 0, 'probability': 0.3, 'seed': 7})
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids)])
    assert run.rc == 0, run.output
    assert run.result()['summary']['cancelled'] == 60
    assert any('sent again' in w for w in run.result()['warnings'])
    subs = [e for e in harness.requests(kind='graph', method='POST') if e.get('batch_request_id')]
    accepted = [e['batch_request_id'] for e in subs if e['status'] == 202]
    assert sorted(accepted) == sorted(ids), 'every user cancelled exactly once'
    assert any(e['status'] == 429 for e in subs)


def test_bulk_a_lost_batch_reply_is_resolved_by_the_evidence_rule(harness):
    scenario, ids = wave_scenario(10)
    scenario['jobs'][0]['tasks'].append({'id': 'aaaaaaaa-0000-4000-8000-000000000001', 'lastUpdatedDateTime': '2026-01-01T00:00:00Z',
                                         'workloads': {'Exchange': 'cancelled', 'ODSP': 'cancelled'}})
    harness.emu.reset(scenario)
    harness.emu.add_fault({'match': {'kind': 'batch'}, 'action': 'drop_after_work'})
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids + ['aaaaaaaa-0000-4000-8000-000000000001'])])
    assert run.rc == 0, run.output
    result = run.result()
    by_id = {entry['task_id']: entry for entry in result['results']}
    assert all(by_id[i]['outcome'] == 'cancelled' and by_id[i]['cancel_in_doubt'] is False for i in ids), \
        'the retry met 409 on tasks this run cancelled: they count as cancelled'
    assert by_id['aaaaaaaa-0000-4000-8000-000000000001']['outcome'] == 'already_cancelled', 'cancelled long before: not ours'
    assert result['summary']['in_doubt'] == 0
    assert len(batch_posts(harness)) == 2


def test_bulk_a_throttled_whole_batch_is_sent_again(harness):
    scenario, ids = wave_scenario(30)
    harness.emu.reset(scenario)
    harness.emu.add_fault({'match': {'kind': 'batch'}, 'status': 429, 'retry_after': '0.3'})
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids, batch_concurrency=1)])
    assert run.rc == 0, run.output
    assert run.result()['summary']['cancelled'] == 30 and run.result()['summary']['in_doubt'] == 0
    assert [e['status'] for e in batch_posts(harness)] == [429, 200, 200]
    accepted = [e['batch_request_id'] for e in harness.requests(kind='graph', method='POST') if e.get('status') == 202]
    assert sorted(accepted) == sorted(ids)


def test_bulk_a_token_expiring_mid_run_is_replaced_once(harness):
    scenario, ids = wave_scenario(60)
    harness.emu.reset(scenario)
    harness.emu.add_fault({'match': {'kind': 'batch'}, 'skip': 1, 'action': 'expire_tokens'})
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids, batch_concurrency=1)])
    assert run.rc == 0, run.output
    assert run.result()['summary']['cancelled'] == 60
    assert [e['status'] for e in batch_posts(harness)] == [200, 401, 200, 200]
    assert len(harness.requests(kind='token')) == 2


def test_bulk_check_mode_reads_the_job_once_lists_once_and_sends_no_cancel(harness):
    run = harness.play([harness.cancel_task(task_id=None, task_ids=TASKS + [MISSING])], args=('--check', '--diff'))
    assert run.rc != 0, 'a user that is not in the job fails, as the real run would'
    result = run.result()
    outcomes = {entry['task_id']: entry['outcome'] for entry in result['results']}
    assert outcomes == {TASK_ACTIVE: 'cancelled', TASK_ACTIVE_2: 'cancelled', TASK_COMPLETED: 'not_cancellable',
                        TASK_CANCELLED: 'already_cancelled', MISSING: 'not_found'}
    assert result['changed'] is True
    assert [e['method'] for e in harness.requests()] .count('POST') == 1, 'only the token request is a POST'
    reads = [e['path'].rsplit('/', 1)[-1] for e in harness.requests(kind='graph', method='GET')]
    assert reads == ['users', JOB]
    assert any(d['before'] == {'workloads': {'Exchange': 'syncing', 'ODSP': 'notStarted'}} for d in result['diff'])


def test_bad_task_ids_fail_before_any_request(harness):
    run = harness.play([harness.cancel_task(task_id=None, task_ids=[TASK_ACTIVE, 'not-a-guid'])])
    assert run.rc != 0 and 'option task_ids[1]' in run.result()['msg']
    run = harness.play([harness.cancel_task(task_ids=[TASK_ACTIVE])])
    assert run.rc != 0 and 'mutually exclusive' in run.result()['msg']
    assert harness.requests() == []


def test_wait_returns_the_final_state(harness):
    scenario, ids = wave_scenario(3, cancel_delay=1.5)
    harness.emu.reset(scenario)
    run = harness.play([harness.cancel_task(wait=True, wait_timeout=30),
                        harness.cancel_task(task_id=None, task_ids=ids, wait=True, wait_timeout=30)])
    assert run.rc == 0, run.output
    single = run.result(0)
    assert single['changed'] is True and {w['status'] for w in single['task']['currentStatus']} == {'cancelled'}
    bulk = run.result(1)
    assert all(set(entry['workloads'].values()) == {'cancelled'} for entry in bulk['results'])
    lists = [e for e in harness.requests(kind='graph', method='GET') if e['path'].endswith('/users')]
    assert 1 <= len(lists) <= 4, 'a bulk wait polls with one listing per poll'


def test_wait_times_out_naming_what_is_still_pending(harness):
    scenario, ids = wave_scenario(2, cancel_delay=None)
    harness.emu.reset(scenario)
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids, wait=True, wait_timeout=2)])
    assert run.rc != 0
    result = run.result()
    assert result['changed'] is True, 'the cancels were accepted: the failure says so'
    assert sorted(result['still_pending']) == sorted(ids) and 'wait_timeout' in result['msg']


def test_task_info_lists_with_derived_states_and_filters(harness):
    scenario = base_scenario()
    harness.emu.reset(dict(scenario, settings={'cancel_delay_seconds': 60, 'page_size': 2}))
    run = harness.play([module(harness, 'crosstenant_migration_task_info', job_id=JOB),
                        module(harness, 'crosstenant_migration_task_info', job_id=JOB, state=['cancellable']),
                        module(harness, 'crosstenant_migration_task_info', job_id=JOB, task_id=TASK_COMPLETED)])
    assert run.rc == 0, run.output
    every = run.result(0)
    assert {t['id']: t['state'] for t in every['tasks']} == {TASK_ACTIVE: 'cancellable', TASK_ACTIVE_2: 'cancellable',
                                                             TASK_COMPLETED: 'not_cancellable', TASK_CANCELLED: 'already_cancelled'}
    assert every['counts']['cancellable'] == 2 and every['counts']['cancelled'] == 1
    assert run.result(1)['task_ids'] == [TASK_ACTIVE, TASK_ACTIVE_2]
    one = run.result(2)['tasks'][0]
    assert one['blocking_workloads'] == {'Exchange': 'completed'} and one['progress'] == 'in_progress'
    assert one['currentStatus'][0]['service'] == 'Exchange', 'the task as Graph sent it'
    pages = [e for e in harness.requests(kind='graph', method='GET') if e['path'].endswith('/users')]
    assert len(pages) == 4, 'two pages per listing, following @odata.nextLink'
    assert harness.requests(kind='graph', method='POST') == []


def test_job_info_and_job_cancel(harness):
    run = harness.play([module(harness, 'crosstenant_migration_job_info'),
                        module(harness, 'crosstenant_migration_job_cancel', job_id=JOB),
                        module(harness, 'crosstenant_migration_job_cancel', job_id=JOB, fail_on_conflict=True),
                        module(harness, 'crosstenant_migration_job_info', job_id=JOB)])
    assert run.rc == 0, run.output
    assert run.result(0)['jobs'][0]['cancellable'] is True and run.result(0)['job_ids'] == [JOB]
    assert run.result(1)['changed'] is True and run.result(1)['cancel_response']['status'] == 'pendingCancel'
    again = run.result(2)
    assert again['changed'] is False and again['conflict_reason'] == 'already_cancelled' and again['status_code'] == 409
    after = run.result(3)['jobs'][0]
    assert after['state'] == 'already_cancelled' and after['cancellable'] is False


@pytest.mark.parametrize('job_change, reason', [
    ({'status': 'completed'}, 'the job is completed'),
    ({'completeAfterDateTime': '2020-01-01T00:00:00Z'}, 'completeAfterDateTime 2020-01-01T00:00:00Z has passed'),
])
def test_job_cancel_too_late(harness, job_change, reason):
    scenario = base_scenario()
    scenario['jobs'][0].update(job_change)
    harness.emu.reset(scenario)
    check = harness.play([module(harness, 'crosstenant_migration_job_cancel', job_id=JOB, fail_on_conflict=True)], args=('--check',))
    assert check.rc != 0 and reason in check.result()['msg'] and check.result()['conflict_reason'] == 'not_cancellable'
    real = harness.play([module(harness, 'crosstenant_migration_job_cancel', job_id=JOB)])
    assert real.rc == 0, real.output
    assert real.result()['conflict_reason'] == 'not_cancellable' and any(reason in w for w in real.result()['warnings'])
    assert harness.requests(kind='graph', method='POST')[0]['status'] == 409


def test_one_token_for_a_loop_of_200_users_with_10_forks(harness, tmp_path):
    scenario, ids = wave_scenario(200)
    harness.emu.reset(scenario)
    inventory = tmp_path / 'hosts.ini'
    inventory.write_text('[wave]\n' + ''.join('host%d ansible_connection=local\n' % i for i in range(10)))
    task = harness.cancel_task(task_id='{{ item }}')
    task['loop'] = "{{ users[groups['wave'].index(inventory_hostname)::10] }}"
    playbook = [{'name': 'Wave', 'hosts': 'wave', 'gather_facts': False, 'vars': {'users': ids}, 'tasks': [task]}]
    run = harness.play([], playbook=playbook, args=('-i', str(inventory), '--forks', '10'), timeout=600)
    assert run.rc == 0, run.output
    assert len(harness.requests(kind='token')) == 1
    assert len(harness.requests(kind='oidc')) == 1, 'the discovery document is cached too'
    assert len([e for e in harness.cancel_posts() if e['status'] == 202]) == 200


def test_20_forks_starting_at_once_make_one_token_request_and_leave_a_valid_cache(harness, tmp_path):
    inventory = tmp_path / 'hosts.ini'
    inventory.write_text('[wave]\n' + ''.join('host%d ansible_connection=local\n' % i for i in range(20)))
    info = module(harness, 'crosstenant_migration_job_info', job_id=JOB)
    playbook = [{'name': 'Burst', 'hosts': 'wave', 'gather_facts': False, 'tasks': [info]}]
    run = harness.play([], playbook=playbook, args=('-i', str(inventory), '--forks', '20'))
    assert run.rc == 0, run.output
    assert len(run.results) == 20
    assert len(harness.requests(kind='token')) == 1
    cache_file = tmp_path / 'cache' / 'msgraph.migrations' / 'msal-token-cache.json'
    assert oct(cache_file.stat().st_mode & 0o777) == '0o600' and oct(cache_file.parent.stat().st_mode & 0o777) == '0o700'
    cache = json.loads(cache_file.read_text())
    assert len(cache['AccessToken']) == 1
    assert SECRET not in cache_file.read_text()
    again = harness.play([module(harness, 'crosstenant_migration_job_info', job_id=JOB)])
    assert again.rc == 0 and len(harness.requests(kind='token')) == 1, 'a later run takes the token from the cache'


@pytest.mark.parametrize('damage', ['corrupt', 'wide'])
def test_a_damaged_cache_is_never_fatal(harness, tmp_path, damage):
    cache_dir = tmp_path / 'cache' / 'msgraph.migrations'
    cache_dir.mkdir(parents=True, mode=0o700)
    cache_file = cache_dir / 'msal-token-cache.json'
    cache_file.write_text('{"AccessToken": {"trunc')
    cache_file.chmod(0o644 if damage == 'wide' else 0o600)
    run = harness.play([harness.cancel_task()])
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True
    if damage == 'wide':
        assert any('token cache is not used' in w and 'mode 644' in w for w in run.result()['warnings'])
    else:
        assert json.loads(cache_file.read_text())['AccessToken'], 'rebuilt with the new token'
