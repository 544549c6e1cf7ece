# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Waiting and the overall deadline under hostile replies, end to end: a wait that fails keeps
every cancel's result, the last poll is at wait_timeout, a task missing from the listing is not
settled, and timeout_total ends every run, reporting what was done.

docs/docsite/rst/guide_faults.rst ("Waiting and the overall deadline") lists what each row promises.
"""

from __future__ import annotations

import pytest

from conftest import JOB, TASK_ACTIVE, TASK_ACTIVE_2, TASK_COMPLETED, TASK_CANCELLED, base_scenario
# The listener fixture: pytest finds it by name.
from test_faults import listener  # noqa: F401  pylint: disable=unused-import

WAVE = [TASK_ACTIVE, TASK_ACTIVE_2]
LISTING = {'method': 'GET', 'path': '/users$'}
TASK_READ = {'method': 'GET', 'path': '/users/[^/]+$'}
JOB_READ = {'method': 'GET', 'path': '/crossTenantMigrationJobs/[^/]+$'}
CANCEL = {'method': 'POST', 'path': '/cancel$'}


def module(harness, name, **options):
    args = harness.connection()
    args.update(options)
    return {'name': name, 'msgraph.migrations.%s' % name: {k: v for k, v in args.items() if v is not None}}


def bulk_cancel(harness, ids=None, **options):
    return harness.cancel_task(task_id=None, task_ids=list(ids or WAVE), **options)


def gets(harness, suffix):
    return [e for e in harness.requests(kind='graph', method='GET') if e['path'].endswith(suffix)]


def accepted_cancels(harness):
    return [e for e in harness.requests(kind='graph', method='POST') if e['path'].endswith('/cancel') and e['status'] == 202]


def workloads(harness, task_id):
    return {w['status'] for w in harness.emu.task(JOB, task_id)['currentStatus']}


def listed_task(task_id, status):
    return {'id': task_id, 'taskType': 'Users', 'lastUpdatedDateTime': '2026-12-04T10:00:00Z',
            'currentStatus': [{'service': 'Exchange', 'status': status, 'message': '', 'errors': []}]}


def assert_cancels_kept(result, ids):
    """The cancels' facts, as the cancel left them: changed, every task cancelled, nothing from the wait's read in them."""
    assert result['changed'] is True
    assert [entry['task_id'] for entry in result['results']] == ids
    assert all(entry['outcome'] == 'cancelled' and entry['status_code'] == 202 and entry['cancel_sent'] for entry in result['results'])
    assert result['summary']['cancelled'] == len(ids) and result['summary']['total'] == len(ids)
    assert 'error' not in result, 'the wait failure is in its own field, not in the cancel error'


# ----- a failure during the wait keeps the cancels' results -----------------------------------

@pytest.mark.parametrize('status', [403, 500, 404])
def test_a_failed_listing_during_a_bulk_wait_keeps_every_result(harness, status):
    # The first poll passes (both pendingCancel); the second is refused.
    harness.emu.add_fault(dict(match=LISTING, status=status, skip=1, times=0))
    run = harness.play([bulk_cancel(harness, wait=True, wait_timeout=60, max_retries=0)])
    assert run.rc != 0
    result = run.result()
    assert_cancels_kept(result, WAVE)
    assert all(set(entry['workloads'].values()) == {'pendingCancel'} for entry in result['results']), 'the last successful poll'
    wait = result['wait']
    assert wait['status'] == 'read_failed' and wait['polls'] == 2 and wait['error']['status'] == status
    assert sorted(wait['still_pending']) == sorted(WAVE)
    assert 'The cancels were accepted' in result['msg'] and 'HTTP %d' % status in result['msg']
    assert len(accepted_cancels(harness)) == 2
    assert [e['status'] for e in gets(harness, '/users')] == [200, status]


def test_a_failed_read_during_a_single_wait_keeps_the_cancel(harness):
    harness.emu.add_fault(dict(match=TASK_READ, status=404, error_code='ResourceNotFound', skip=1, times=0))
    run = harness.play([harness.cancel_task(wait=True, wait_timeout=60)])
    assert run.rc != 0
    result = run.result()
    assert result['changed'] is True and result['outcome'] == 'cancelled' and result['status_code'] == 202
    assert result['cancel_sent'] is True and result['cancel_in_doubt'] is False and 'error' not in result
    assert result['wait']['status'] == 'read_failed' and result['wait']['error']['status'] == 404
    assert {w['status'] for w in result['task']['currentStatus']} == {'pendingCancel'}
    assert [e['status'] for e in gets(harness, TASK_ACTIVE)] == [200, 404]


def test_a_failed_read_during_a_job_wait_keeps_the_cancel(harness):
    harness.emu.add_fault(dict(match=JOB_READ, status=500, skip=1, times=0))
    run = harness.play([module(harness, 'crosstenant_migration_job_cancel', job_id=JOB, wait=True, wait_timeout=60, max_retries=0)])
    assert run.rc != 0
    result = run.result()
    assert result['changed'] is True and result['outcome'] == 'cancelled' and result['status_code'] == 202 and 'error' not in result
    assert result['wait']['status'] == 'read_failed' and result['wait']['error']['status'] == 500
    assert result['job']['status'] == 'pendingCancel', 'the last successful poll'
    assert [e['status'] for e in gets(harness, JOB)] == [200, 500]


def test_a_next_link_to_another_host_during_the_wait_is_refused_and_the_results_kept(harness, listener):  # noqa: F811
    elsewhere = 'https://127.0.0.1:%d/v1.0/solutions/migrations/crossTenantMigrationJobs/%s/users?$skiptoken=x' % (listener.port, JOB)
    harness.emu.add_fault(dict(match=LISTING, status=200, content_type='application/json', skip=1, times=0,
                               body={'value': [listed_task(TASK_ACTIVE, 'pendingCancel')], '@odata.nextLink': elsewhere}))
    run = harness.play([bulk_cancel(harness, wait=True, wait_timeout=60)])
    assert run.rc != 0
    result = run.result()
    assert_cancels_kept(result, WAVE)
    assert result['wait']['status'] == 'read_failed' and 'nextLink' in result['wait']['message']
    assert listener.connections == 0, 'the other host was never contacted'


def test_a_slow_server_with_a_short_wait_timeout_still_reports_the_cancel(harness):
    # The cancel takes most of wait_timeout, each read 1.5 s: the wait still gets its wait_timeout, and says how long it really took.
    harness.emu.add_fault([dict(match=CANCEL, latency_ms=4500), dict(match=TASK_READ, latency_ms=1500, times=0)])
    run = harness.play([harness.cancel_task(wait=True, wait_timeout=5)])
    assert run.rc != 0
    result = run.result()
    assert result['changed'] is True and result['outcome'] == 'cancelled' and result['status_code'] == 202
    wait = result['wait']
    assert wait['status'] == 'timed_out' and wait['still_pending'] == [TASK_ACTIVE] and result['still_pending'] == [TASK_ACTIVE]
    assert wait['seconds'] >= 5 and 'Waited %g s' % wait['seconds'] in result['msg']
    assert all(e['status'] == 200 for e in gets(harness, TASK_ACTIVE)), 'no read was cut short'


def test_timeout_total_cutting_a_wait_read_short_keeps_the_cancel(harness):
    # Reads take 6 s: the first poll is cut off when timeout_total + wait_timeout (4 s) have passed.
    harness.emu.add_fault(dict(match=TASK_READ, latency_ms=6000, times=0))
    run = harness.play([harness.cancel_task(wait=True, wait_timeout=2, timeout_total=2)])
    assert run.rc != 0
    result = run.result()
    assert result['changed'] is True and result['outcome'] == 'cancelled' and result['status_code'] == 202
    wait = result['wait']
    assert wait['status'] == 'read_failed' and wait['polls'] == 1 and wait['error']['kind'] == 'timeout'
    assert 'The cancel was accepted' in result['msg']


# ----- the last poll is at the deadline -------------------------------------------------------

def test_tasks_settling_just_before_wait_timeout_are_seen_by_a_last_poll(harness):
    scenario = base_scenario()
    scenario['settings']['cancel_delay_seconds'] = 4.5
    harness.emu.reset(scenario)
    # Polls after 0, 1 and 3 s see pendingCancel; the next would be after 7 s, past wait_timeout: one more poll at 6 s.
    run = harness.play([bulk_cancel(harness, wait=True, wait_timeout=6)])
    assert run.rc == 0, run.output
    result = run.result()
    assert result['changed'] is True
    assert all(set(entry['workloads'].values()) == {'cancelled'} for entry in result['results'])
    wait = result['wait']
    assert wait['status'] == 'settled' and wait['polls'] == 4 and wait['still_pending'] == []
    assert wait['seconds'] >= 4.5, 'it saw the tasks cancelled, which they were only 4.5 s after the cancel'
    listings = gets(harness, '/users')
    assert len(listings) == 4
    assert listings[-1]['ts'] - listings[0]['ts'] <= wait['seconds'] + 0.1, 'the time reported (to a tenth) covers the polls'


# ----- a task missing from the listing is not settled -----------------------------------------

def test_a_task_vanishing_from_the_listing_is_reported_not_settled(harness):
    harness.emu.add_fault(dict(match=LISTING, status=200, content_type='application/json', skip=1, times=0,
                               body={'value': [listed_task(TASK_ACTIVE, 'cancelled'), listed_task(TASK_COMPLETED, 'completed')]}))
    run = harness.play([bulk_cancel(harness, wait=True, wait_timeout=60)])
    assert run.rc != 0, 'a task that vanished is not counted as settled'
    result = run.result()
    assert_cancels_kept(result, WAVE)
    wait = result['wait']
    assert wait['status'] == 'missing' and wait['missing'] == [TASK_ACTIVE_2] and wait['still_pending'] == []
    assert TASK_ACTIVE_2 in result['msg'] and 'no longer in the listing' in result['msg']
    by_id = {entry['task_id']: entry for entry in result['results']}
    assert by_id[TASK_ACTIVE]['workloads'] == {'Exchange': 'cancelled'}
    assert set(by_id[TASK_ACTIVE_2]['workloads'].values()) == {'pendingCancel'}, 'as last seen'
    assert len(gets(harness, '/users')) == 2


# ----- timeout_total bounds every run ---------------------------------------------------------

def test_timeout_total_ends_a_bulk_cancel_throttled_for_ever_reporting_every_task(harness):
    ids = [TASK_ACTIVE, TASK_ACTIVE_2, TASK_COMPLETED]
    harness.emu.add_fault(dict(match={'kind': 'batch'}, status=503, retry_after=2, times=0))
    run = harness.play([bulk_cancel(harness, ids, max_retries=10, timeout_total=5)])
    assert run.rc != 0
    result = run.result()
    assert result['changed'] is False
    assert [entry['task_id'] for entry in result['results']] == ids
    assert all(entry['outcome'] == 'failed' and entry['cancel_in_doubt'] is False for entry in result['results'])
    assert result['summary']['failed'] == 3 and result['summary']['total'] == 3
    assert 'timeout_total (5 s)' in result['msg']
    envelopes = harness.requests(kind='batch', method='POST')
    assert 1 <= len(envelopes) <= 3, 'retries 2 s apart within 5 s, not 11 attempts'
    assert all(e['status'] == 503 for e in envelopes)
    assert workloads(harness, TASK_ACTIVE) == {'inProgress', 'notStarted'}


def test_timeout_total_ends_a_listing_saying_how_far_it_got(harness):
    scenario = base_scenario()
    scenario['settings']['page_size'] = 2
    harness.emu.reset(scenario)
    harness.emu.add_fault(dict(match=LISTING, status=503, retry_after=2, skip=1, times=0))
    run = harness.play([module(harness, 'crosstenant_migration_task_info', job_id=JOB, max_retries=10, timeout_total=5)])
    assert run.rc != 0
    result = run.result()
    assert 'timeout_total (5 s) after reading 1 page(s) of the listing' in result['msg']
    assert 'tasks' not in result
    pages = [e['status'] for e in gets(harness, '/users')]
    assert pages[0] == 200 and 2 <= len(pages) <= 4 and set(pages[1:]) == {503}


def test_a_bad_timeout_total_fails_before_any_request_in_every_module(harness):
    names = ['crosstenant_migration_task_cancel', 'crosstenant_migration_job_cancel', 'crosstenant_migration_task_info',
             'crosstenant_migration_job_info']
    values = [0, -1, 'inf', 'nan', 86401]
    tasks = []
    for index, value in enumerate(values):
        name = names[index % len(names)]
        options = dict(job_id=JOB, timeout_total=value)
        if name == 'crosstenant_migration_task_cancel':
            options.update(task_ids=[TASK_ACTIVE, TASK_CANCELLED], wait=True)
        tasks.append(dict(module(harness, name, **options), ignore_errors=True))
    tasks.append(dict(module(harness, 'crosstenant_migration_task_cancel', job_id=JOB, task_id=TASK_ACTIVE, timeout_total='soon'),
                      ignore_errors=True))
    run = harness.play(tasks)
    assert len(run.results) == len(values) + 1
    for index, value in enumerate(values):
        assert run.status(index) == 'failed'
        assert ('Invalid value for option timeout_total: expected a number of seconds greater than 0 and at most 86400, got %s'
                % value) in run.result(index)['msg'], value
    assert 'timeout_total' in run.result(len(values))['msg'], 'not a number: ansible-core refuses it'
    assert harness.requests() == []
