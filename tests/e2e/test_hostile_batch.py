# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Hostile $batch replies and non-finite Retry-After values, end to end: no crash, every task
reported, changed only for what this run cancelled, and cancel_sent true for what reached a server.

docs/docsite/rst/guide_faults.rst ("Hostile ``$batch`` replies and non-finite ``Retry-After``")
lists what each row promises.
"""

from __future__ import annotations

from collections import Counter

from conftest import JOB
from test_bulk_and_info import module, wave_scenario

CANCEL_IN_BATCH = {'in_batch': True, 'path': '/cancel$'}


def sub_cancels(harness):
    """The cancels that reached the emulator inside $batch envelopes: (task id, status)."""
    return [(e['batch_request_id'], e['status']) for e in harness.requests(kind='graph', method='POST') if e.get('batch_request_id')]


def pending_cancel(harness, ids):
    return [task_id for task_id in ids if {w['status'] for w in harness.emu.task(JOB, task_id)['currentStatus']} == {'pendingCancel'}]


def test_an_infinite_retry_after_on_one_of_60_sub_requests_is_not_retried_and_every_task_is_reported(harness):
    scenario, ids = wave_scenario(60)
    harness.emu.reset(scenario)
    throttled = ids[7]
    harness.emu.add_fault({'match': {'in_batch': True, 'path': throttled + '/cancel$'}, 'status': 429, 'retry_after': 'inf', 'times': 0})
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids)])
    assert run.rc != 0 and 'OverflowError' not in run.output
    result = run.result()
    assert result['changed'] is True
    assert [entry['task_id'] for entry in result['results']] == ids
    assert result['summary']['cancelled'] == 59 and result['summary']['failed'] == 1 and result['summary']['in_doubt'] == 0
    entry = {e['task_id']: e for e in result['results']}[throttled]
    assert (entry['outcome'], entry['status_code'], entry['cancel_sent'], entry['cancel_in_doubt']) == ('failed', 429, True, False)
    assert 'unbounded time' in entry['message'] and 'try again later' in entry['message']
    # Sent once, never again; the 59 others were cancelled once each.
    sent = Counter(task_id for task_id, _status in sub_cancels(harness))
    assert set(sent.values()) == {1} and len(sent) == 60
    assert sorted(pending_cancel(harness, ids)) == sorted(set(ids) - {throttled})


def test_a_job_cancel_throttled_with_retry_after_1e999_fails_cleanly_and_sends_once(harness):
    harness.emu.add_fault({'match': {'method': 'POST', 'path': JOB + '/cancel$'}, 'status': 429, 'retry_after': '1e999', 'times': 0})
    run = harness.play([module(harness, 'crosstenant_migration_job_cancel', job_id=JOB)])
    assert run.rc != 0 and 'OverflowError' not in run.output
    result = run.result()
    assert (result['changed'], result['outcome'], result['status_code'], result['cancel_sent'], result['cancel_in_doubt']) == \
        (False, 'failed', 429, True, False)
    assert 'unbounded time' in result['msg']
    posts = [e for e in harness.requests(kind='graph', method='POST') if e['path'].endswith(JOB + '/cancel')]
    assert [e['status'] for e in posts] == [429]
    assert harness.emu.job(JOB)['status'] == 'inProgress'


def test_an_envelope_answered_503_with_retry_after_infinity_reports_every_task_as_not_carried_out(harness):
    scenario, ids = wave_scenario(5)
    harness.emu.reset(scenario)
    harness.emu.add_fault({'match': {'kind': 'batch'}, 'status': 503, 'retry_after': 'Infinity', 'times': 0})
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids)])
    assert run.rc != 0 and 'OverflowError' not in run.output
    result = run.result()
    assert result['changed'] is False and [e['task_id'] for e in result['results']] == ids
    assert all((e['outcome'], e['cancel_sent'], e['cancel_in_doubt']) == ('failed', True, False) for e in result['results'])
    assert 'HTTP 503' in result['results'][0]['message'] and 'unbounded time' in result['results'][0]['message']
    assert [e['status'] for e in harness.requests(kind='batch', method='POST')] == [503], 'not retried'
    assert not pending_cancel(harness, ids) and not sub_cancels(harness)


def test_contradictory_duplicate_sub_responses_are_never_taken_as_already_cancelled(harness):
    # Each cancel is carried out (202) and the reply repeats its id with a 409: the reply cannot be taken at its word.
    scenario, ids = wave_scenario(5)
    harness.emu.reset(scenario)
    harness.emu.add_fault({'match': CANCEL_IN_BATCH, 'action': 'duplicate', 'status': 409, 'error_code': 'Conflict', 'times': 0})
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids)])
    assert run.rc == 0, run.output
    result = run.result()
    assert result['changed'] is True
    assert result['summary']['cancelled'] == 5 and result['summary']['already_cancelled'] == 0 and result['summary']['in_doubt'] == 0
    for entry in result['results']:
        assert entry['outcome'] == 'cancelled' and entry['cancel_sent'] is True
        assert 'contradictory answers' in entry['message'] and 'HTTP 202' in entry['message']
    assert any('could not be taken at its word' in w for w in result['warnings'])
    # The doubtful ones were sent again once; the resend met 409 and was settled from the task read back.
    sent = Counter(status for _task_id, status in sub_cancels(harness))
    assert sent == {202: 5, 409: 5}
    assert sorted(pending_cancel(harness, ids)) == sorted(ids)


def test_an_envelope_refused_with_401_whose_token_refresh_fails_says_the_cancels_were_sent(harness):
    scenario, ids = wave_scenario(5)
    harness.emu.reset(scenario)
    harness.emu.add_fault({'match': {'kind': 'batch'}, 'status': 401, 'error_code': 'InvalidAuthenticationToken', 'times': 1})
    harness.emu.add_fault({'match': {'kind': 'token'}, 'status': 500, 'skip': 1, 'times': 0})
    run = harness.play([harness.cancel_task(task_id=None, task_ids=ids, token_cache=False, max_retries=1)])
    assert run.rc != 0
    result = run.result()
    assert result['changed'] is False and [e['task_id'] for e in result['results']] == ids
    assert all((e['outcome'], e['cancel_sent'], e['cancel_in_doubt']) == ('failed', True, False) for e in result['results'])
    assert 'refused the $batch request with 401' in result['results'][0]['message']
    assert [e['status'] for e in harness.requests(kind='batch', method='POST')] == [401]
    assert [e['status'] for e in harness.requests(kind='token', method='POST')] == [200, 500, 500]
    assert not pending_cancel(harness, ids)
