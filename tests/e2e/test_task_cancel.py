# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""crosstenant_migration_task_cancel end to end: real ansible-playbook, msal and TLS
against the emulator; assertions on the module's results and the emulator's request log."""

from __future__ import annotations

import re
import time

import pytest

from conftest import (
    base_scenario, JOB, MISSING, NO_ROLE_APP, NO_ROLE_SECRET, READER_APP, READER_SECRET, SECRET, TASK_ACTIVE, TASK_ACTIVE_2, TASK_CANCELLED, TASK_COMPLETED,
)

CANCEL_URL = '/v1.0/solutions/migrations/crossTenantMigrationJobs/%s/users/%s/cancel'


def workloads(harness, task_id=TASK_ACTIVE):
    return {w['service']: w['status'] for w in harness.emu.task(JOB, task_id)['currentStatus']}


def test_first_run_cancels_and_second_run_is_an_ok_no_op(harness):
    first = harness.play([harness.cancel_task()])
    assert first.rc == 0, first.output
    result = first.result()
    assert result['changed'] is True and result['conflict'] is False and result['status_code'] == 202
    assert result['cancel_response']['status'] == 'Accepted'
    assert TASK_ACTIVE in result['cancel_response']['message']
    assert result['request_id']
    assert set(workloads(harness).values()) == {'pendingCancel'}

    second = harness.play([harness.cancel_task()])
    assert second.rc == 0, second.output
    again = second.result()
    assert again['changed'] is False and again['conflict'] is True and again['status_code'] == 409
    assert again['outcome'] == 'already_cancelled' and again['conflict_reason'] == 'already_cancelled'
    assert again['error']['code'] == 'Conflict' and 'Cancel is not possible' in again['error']['message']
    assert again['cancel_sent'] is True and again['cancel_in_doubt'] is False
    # The state asked for: no warning to wade through on a rerun.
    assert not again.get('warnings')
    assert 'failed=0' in second.stdout

    posts = harness.cancel_posts()
    assert [p['path'] for p in posts] == [CANCEL_URL % (JOB, TASK_ACTIVE)] * 2
    for post in posts:
        assert post['authorization'] == 'Bearer'
        assert post['user_agent'].startswith('msgraph.migrations/0.3.0')
        assert post['client_request_id'] and not post['body_present']
    assert posts[0]['client_request_id'] != posts[1]['client_request_id']


def test_too_late_fails_with_fail_on_conflict_naming_the_blocking_workload(harness):
    run = harness.play([harness.cancel_task(TASK_COMPLETED, fail_on_conflict=True)])
    assert run.rc != 0 and run.status() == 'failed'
    result = run.result()
    assert '409' in result['msg'] and 'Cancel is not possible' in result['msg']
    assert 'Exchange is completed' in result['msg'] and 'its migration goes on' in result['msg']
    assert result['conflict'] is True and result['status_code'] == 409 and result['changed'] is False
    assert result['outcome'] == 'not_cancellable' and result['conflict_reason'] == 'not_cancellable'
    assert result['blocking_workloads'] == {'Exchange': 'completed'}
    assert result['job_id'] == JOB and result['task_id'] == TASK_COMPLETED
    assert set(workloads(harness, TASK_COMPLETED).values()) == {'completed', 'inProgress'}


def test_too_late_is_an_ok_no_op_with_a_warning_by_default(harness):
    run = harness.play([harness.cancel_task(TASK_COMPLETED)])
    assert run.rc == 0, run.output
    result = run.result()
    assert result['changed'] is False and result['conflict_reason'] == 'not_cancellable'
    assert any('Exchange is completed' in w and 'fail_on_conflict' in w for w in result['warnings'])


def test_a_runbook_step_with_fail_on_conflict_is_safe_to_rerun(harness):
    first = harness.play([harness.cancel_task(fail_on_conflict=True)])
    assert first.rc == 0 and first.result()['changed'] is True, first.output
    rerun = harness.play([harness.cancel_task(fail_on_conflict=True), harness.cancel_task(TASK_CANCELLED, fail_on_conflict=True)])
    assert rerun.rc == 0, rerun.output
    for index in (0, 1):
        result = rerun.result(index)
        assert result['changed'] is False and result['conflict'] is True and result['conflict_reason'] == 'already_cancelled'
        assert 'goes on' not in str(result)


def test_a_conflict_the_job_explains_names_the_job_state(harness):
    scenario = base_scenario()
    scenario['jobs'][0]['status'] = 'cuttingOver'
    harness.emu.reset(scenario)
    run = harness.play([harness.cancel_task(TASK_ACTIVE_2)])
    assert run.rc == 0, run.output
    result = run.result()
    assert result['conflict_reason'] == 'not_cancellable' and result['blocking_workloads'] == {}
    assert any('the job is cuttingOver' in w and 'goes on' in w for w in result['warnings'])
    reads = [e['path'] for e in harness.requests(kind='graph', method='GET')]
    assert reads == ['/v1.0/solutions/migrations/crossTenantMigrationJobs/%s/users/%s' % (JOB, TASK_ACTIVE_2),
                     '/v1.0/solutions/migrations/crossTenantMigrationJobs/%s' % JOB]


@pytest.mark.parametrize('status', [409, 404])
def test_a_non_graph_reply_with_a_conflict_status_is_a_failure(harness, status):
    harness.emu.add_fault({'match': {'method': 'POST', 'path': '/cancel$'}, 'status': status,
                           'body': '<html><body>Proxy says no</body></html>', 'content_type': 'text/html'})
    run = harness.play([harness.cancel_task()])
    assert run.rc != 0
    result = run.result()
    assert result['outcome'] == 'failed' and result['conflict'] is False and result['changed'] is False
    assert 'not JSON (text/html)' in result['msg'] and 'Proxy says no' in result['msg']
    assert [e['method'] for e in harness.requests(kind='graph')] == ['POST']


@pytest.mark.parametrize('job_id, task_id', [(MISSING, TASK_ACTIVE), (JOB, MISSING)])
def test_not_found_fails_naming_job_and_user(harness, job_id, task_id):
    run = harness.play([harness.cancel_task(task_id, job_id=job_id)])
    assert run.rc != 0
    result = run.result()
    assert result['status_code'] == 404 and result['error']['code']
    assert 'was not found, or user %s is not part of it' % task_id in result['msg']
    # Graph's message and the hint are two sentences.
    assert re.search(r"[.'] The job ", result['msg']) and 'found The job' not in result['msg']
    assert result['outcome'] == 'not_found' and result['job_id'] == job_id and result['task_id'] == task_id
    assert result['request_id'] in result['msg']


def test_forbidden_write_names_the_permission_to_grant(harness):
    run = harness.play([harness.cancel_task(client_id=READER_APP, client_secret=READER_SECRET)])
    assert run.rc != 0
    result = run.result()
    assert result['status_code'] == 403
    assert 'CrossTenantContentMigration.ReadWrite.All' in result['msg']
    assert 'Migration Administrator' in result['msg']
    assert workloads(harness)['Exchange'] == 'inProgress'


def test_forbidden_read_in_check_mode_names_the_read_permission(harness):
    run = harness.play([harness.cancel_task(client_id=NO_ROLE_APP, client_secret=NO_ROLE_SECRET)], args=('--check',))
    assert run.rc != 0
    assert run.result()['status_code'] == 403 and 'CrossTenantContentMigration.Read.All' in run.result()['msg']


@pytest.mark.parametrize('status, retry_after', [(429, '0.35'), (429, '1'), (503, '0.2'), (504, '0.2')])
def test_throttled_and_unavailable_are_retried_after_retry_after(harness, status, retry_after):
    harness.emu.add_fault({'match': {'method': 'POST', 'path': '/cancel$'}, 'status': status, 'retry_after': retry_after, 'times': 2})
    run = harness.play([harness.cancel_task()])
    assert run.rc == 0, run.output
    result = run.result()
    assert result['changed'] is True and result['status_code'] == 202
    retry_warnings = [w for w in result['warnings'] if 'answered %d' % status in w]
    assert len(retry_warnings) == 2
    posts = harness.cancel_posts()
    assert [p['status'] for p in posts] == [status, status, 202]
    assert posts[1]['ts'] - posts[0]['ts'] >= float(retry_after) * 0.95


def test_throttling_beyond_max_retries_fails_with_the_status(harness):
    harness.emu.add_fault({'match': {'method': 'POST', 'path': '/cancel$'}, 'status': 429, 'retry_after': '0.1', 'times': 0})
    run = harness.play([harness.cancel_task(max_retries=2)])
    assert run.rc != 0
    assert run.result()['status_code'] == 429 and 'HTTP 429' in run.result()['msg']
    assert len(harness.cancel_posts()) == 3


def test_a_reply_lost_after_the_cancel_took_effect_is_reported_as_changed(harness):
    harness.emu.add_fault({'match': {'method': 'POST', 'path': '/cancel$'}, 'action': 'drop_after_work'})
    run = harness.play([harness.cancel_task(fail_on_conflict=True)])
    assert run.rc == 0, run.output
    result = run.result()
    assert result['changed'] is True and result['conflict'] is False
    assert any('lost' in w for w in result['warnings'])
    assert result['task']['id'] == TASK_ACTIVE
    graph = harness.requests(kind='graph')
    assert [(e['method'], e['status']) for e in graph] == [('POST', None), ('POST', 409), ('GET', 200)]


def test_a_gateway_error_after_the_cancel_took_effect_is_reported_as_changed(harness):
    harness.emu.add_fault({'match': {'method': 'POST', 'path': '/cancel$'}, 'action': 'status_after_work', 'status': 504, 'retry_after': '0.2'})
    run = harness.play([harness.cancel_task(fail_on_conflict=True)])
    assert run.rc == 0, run.output
    result = run.result()
    assert result['changed'] is True and result['conflict'] is False and result['outcome'] == 'cancelled'
    assert result['cancel_in_doubt'] is False
    assert any('that attempt cancelled it' in w for w in result['warnings'])
    assert [(e['method'], e['status']) for e in harness.requests(kind='graph')] == [('POST', 504), ('POST', 409), ('GET', 200)]


def test_a_read_timeout_is_retried(harness):
    harness.emu.add_fault({'match': {'method': 'POST', 'path': '/cancel$'}, 'action': 'hang', 'seconds': 2})
    run = harness.play([harness.cancel_task(timeout=1)])
    assert run.rc == 0, run.output
    result = run.result()
    assert result['changed'] is True
    assert any('no usable reply (timeout)' in w for w in result['warnings'])
    deadline = time.monotonic() + 5  # the hung first request is logged when it ends
    while len(harness.cancel_posts()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(harness.cancel_posts()) == 2
    assert set(workloads(harness).values()) == {'pendingCancel'}


def test_check_mode_sends_no_cancel_and_predicts(harness):
    run = harness.play([harness.cancel_task(), harness.cancel_task(TASK_COMPLETED)], args=('--check',))
    assert run.rc == 0, run.output
    assert run.result(0)['changed'] is True and run.result(0)['status_code'] is None
    assert run.result(1)['changed'] is False and run.result(1)['conflict'] is True
    assert any('Exchange is completed' in w for w in run.result(1)['warnings'])
    assert harness.requests(kind='graph', method='POST') == []
    reads = [e['path'].rsplit('/', 2)[-2:] for e in harness.requests(kind='graph', method='GET')]
    assert reads == [['users', TASK_ACTIVE], ['crossTenantMigrationJobs', JOB], ['users', TASK_COMPLETED], ['crossTenantMigrationJobs', JOB]]
    assert workloads(harness)['Exchange'] == 'inProgress'


def test_check_mode_with_fail_on_conflict_fails_like_the_real_run(harness):
    run = harness.play([dict(harness.cancel_task(TASK_COMPLETED, fail_on_conflict=True), ignore_errors=True),
                        harness.cancel_task(TASK_CANCELLED, fail_on_conflict=True)], args=('--check',))
    assert run.status(0) == 'failed' and 'would refuse to cancel' in run.result(0)['msg']
    assert run.result(0)['conflict_reason'] == 'not_cancellable'
    assert run.status(1) == 'ok' and run.result(1)['conflict_reason'] == 'already_cancelled' and run.result(1)['changed'] is False
    assert harness.requests(kind='graph', method='POST') == []


@pytest.mark.parametrize('body', ['<html>login page</html>', '42'])
def test_check_mode_fails_when_the_task_read_is_not_a_task(harness, body):
    harness.emu.add_fault({'match': {'method': 'GET', 'path': '/users/'}, 'status': 200, 'body': body,
                           'content_type': 'text/html' if body.startswith('<') else 'application/json'})
    run = harness.play([harness.cancel_task()], args=('--check',))
    assert run.rc != 0
    assert 'not a task' in run.result()['msg'] and run.result()['changed'] is False


@pytest.mark.parametrize('job_change, reason', [
    ({'status': 'cuttingOver'}, 'the job is cuttingOver'),
    ({'completeAfterDateTime': '2020-01-01T00:00:00Z'}, 'completeAfterDateTime 2020-01-01T00:00:00Z has passed'),
])
def test_check_mode_predicts_what_the_job_forbids_as_the_real_run_meets_it(harness, job_change, reason):
    scenario = base_scenario()
    scenario['jobs'][0].update(job_change)
    harness.emu.reset(scenario)
    check = harness.play([harness.cancel_task(fail_on_conflict=True)], args=('--check',))
    assert check.rc != 0 and reason in check.result()['msg']
    real = harness.play([harness.cancel_task(fail_on_conflict=True)])
    assert real.rc != 0 and real.result()['status_code'] == 409


def test_check_mode_on_a_missing_user_fails(harness):
    run = harness.play([harness.cancel_task(MISSING)], args=('--check',))
    assert run.rc != 0 and run.result()['status_code'] == 404


def test_diff_shows_workloads_before_and_after(harness):
    run = harness.play([harness.cancel_task(TASK_ACTIVE_2)], args=('--check', '--diff'))
    assert run.rc == 0, run.output
    diff = run.result()['diff']
    assert diff['before'] == {'workloads': {'Exchange': 'syncing', 'ODSP': 'notStarted'}}
    assert diff['after'] == {'workloads': {'Exchange': 'pendingCancel', 'ODSP': 'pendingCancel'}}
    assert '"Exchange": "syncing"' in run.stdout and '"Exchange": "pendingCancel"' in run.stdout

    real = harness.play([harness.cancel_task(TASK_ACTIVE_2)], args=('--diff',))
    assert real.result()['changed'] is True
    assert real.result()['diff']['after'] == {'workloads': {'Exchange': 'pendingCancel', 'ODSP': 'pendingCancel'}}
    assert [e['method'] for e in harness.requests(kind='graph')] == ['GET', 'GET', 'GET', 'POST']


@pytest.mark.parametrize('option, value', [
    ('job_id', ''), ('job_id', '../x'), ('task_id', TASK_ACTIVE + 'x'), ('task_id', '%2e%2e%2fusers'),
    ('task_id', TASK_ACTIVE + '/../' + TASK_COMPLETED), ('job_id', JOB.replace('-', '')),
])
def test_bad_ids_fail_naming_the_option_before_any_request(harness, option, value):
    run = harness.play([harness.cancel_task(**{option: value})])
    assert run.rc != 0
    assert 'option %s' % option in run.result()['msg'] and 'GUID' in run.result()['msg']
    assert harness.requests() == []


def test_bad_connection_options_fail_before_any_request(harness):
    tasks = [dict(harness.cancel_task(graph_endpoint='http://127.0.0.1:1'), ignore_errors=True),
             dict(harness.cancel_task(max_retries=50), ignore_errors=True),
             dict(harness.cancel_task(timeout=0), ignore_errors=True)]
    run = harness.play(tasks)
    assert [r['status'] for r in run.results] == ['failed'] * 3
    assert 'option graph_endpoint: expected https://host or https://host:port' in run.result(0)['msg']
    assert 'option max_retries: expected an integer from 0 to 10' in run.result(1)['msg']
    assert 'option timeout' in run.result(2)['msg']
    assert harness.requests() == []


def test_api_version_beta(harness):
    run = harness.play([harness.cancel_task(api_version='beta')])
    assert run.result()['changed'] is True
    assert harness.cancel_posts()[0]['path'] == CANCEL_URL.replace('v1.0', 'beta') % (JOB, TASK_ACTIVE)


def test_an_expired_token_is_replaced_once(harness):
    harness.emu.add_fault({'match': {'method': 'POST', 'path': '/cancel$'}, 'status': 401,
                           'error_code': 'InvalidAuthenticationToken', 'error_message': 'Lifetime validation failed, the token is expired.'})
    run = harness.play([harness.cancel_task()])
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True
    assert len(harness.requests(kind='token')) == 2
    assert [p['status'] for p in harness.cancel_posts()] == [401, 202]


def test_module_defaults_with_the_action_group(harness):
    task = {'name': 'Cancel', 'msgraph.migrations.crosstenant_migration_task_cancel': {'job_id': JOB, 'user_id': TASK_ACTIVE}}
    run = harness.play([task], module_defaults=harness.connection())
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True


def test_ca_path_wins_over_requests_ca_bundle(harness):
    env = {'REQUESTS_CA_BUNDLE': '/etc/ssl/certs/ca-certificates.crt', 'CURL_CA_BUNDLE': '/etc/ssl/certs/ca-certificates.crt'}
    run = harness.play([harness.cancel_task()], env=env)
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True

    untrusted = harness.play([harness.cancel_task(ca_path=None, token_cache=False)], env=env)
    assert untrusted.rc != 0
    msg = untrusted.result()['msg']
    assert msg.startswith('Could not get a token from 127.0.0.1:%d: the TLS connection' % harness.emu.port)
    assert 'certificate verify failed' in msg and 'ca_path' in msg and 'Authentication' not in msg
    assert untrusted.result()['error']['kind'] == 'tls'
    assert untrusted.result()['job_id'] == JOB and untrusted.result()['task_id'] == TASK_ACTIVE


def test_secret_and_token_never_appear_at_vvvv(harness):
    token = harness.emu.mint_token(tenant_id='00000000-0000-4000-8000-0000000000aa',
                                   client_id='11111111-1111-4111-8111-111111111111',
                                   roles=['CrossTenantContentMigration.ReadWrite.All'])
    run = harness.play([harness.cancel_task(), harness.cancel_task(TASK_ACTIVE_2, access_token=token + '\n', client_secret=None),
                        harness.cancel_task(TASK_COMPLETED, fail_on_conflict=True)], args=('-vvvv',))
    assert len(run.results) == 3
    assert run.result(0)['changed'] and run.result(1)['changed'] and run.status(2) == 'failed'
    assert SECRET not in run.output
    assert token not in run.output
    issued = harness.issued_tokens()
    assert issued
    for value in issued:
        assert value not in run.output
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in run.output
