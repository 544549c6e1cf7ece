# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Server text, paging and listings under hostile replies, end to end: echoed tokens cut short, nextLinks
that are refused rather than glued, reads answering for another id, listings with tasks without ids or
listed twice, and the cap on a listing (docs/docsite/rst/guide_faults.rst, last section)."""

from __future__ import annotations

import json

import pytest

from conftest import JOB, TASK_ACTIVE, TASK_ACTIVE_2, TASK_CANCELLED, TASK_COMPLETED, base_scenario

# The redactor masks every run this long of a token; a test looks for any such run.
FRAGMENT = 16
LISTING_CAP = 20000


def module(harness, name, **options):
    args = harness.connection()
    args.update(options)
    return {'name': name, 'msgraph.migrations.%s' % name: {k: v for k, v in args.items() if v is not None}}


def task_info(harness, **options):
    return module(harness, 'crosstenant_migration_task_info', job_id=JOB, **options)


def leaked_fragments(harness, run):
    """Each issued token some run of FRAGMENT characters of which appears in the output or the results."""
    shown = run.output + json.dumps(run.results)
    leaked = []
    for token in harness.issued_tokens():
        if any(token[start:start + FRAGMENT] in shown for start in range(len(token) - FRAGMENT + 1)):
            leaked.append(token)
    return leaked


def small_pages(harness, **settings):
    scenario = base_scenario()
    scenario['settings'].update(page_size=2, **settings)
    harness.emu.reset(scenario)


def listing_reads(harness):
    return [e for e in harness.requests(kind='graph', method='GET') if e['path'].lower().endswith('/users')]


# ----- server text that echoes a token cut short ---------------------------------------------------

@pytest.mark.parametrize('status', [400, 409])
def test_an_echoing_sub_response_with_a_cut_token_leaks_no_fragment_at_vvv(harness, status):
    harness.emu.add_fault({'match': {'in_batch': True, 'path': '/cancel$'}, 'action': 'echo', 'status': status, 'cut_chars': 3,
                           'error_code': 'Conflict' if status == 409 else None, 'times': 0})
    run = harness.play([harness.cancel_task(task_id=None, task_ids=[TASK_ACTIVE, TASK_ACTIVE_2])], args=('-vvv',))
    echoed = [e for e in harness.requests(kind='graph') if (e.get('fault') or '').startswith('echo cut 3')]
    assert len(echoed) == 2, 'both sub-requests were answered with the echo'
    assert (run.rc != 0) == (status == 400) and harness.issued_tokens()
    assert leaked_fragments(harness, run) == []
    result = run.result()
    assert result['changed'] is False and len(result['results']) == 2
    for entry in result['results']:
        assert entry['outcome'] == ('failed' if status == 400 else 'not_cancellable') and entry['cancel_sent'] is True
        assert 'The request could not be processed' in json.dumps(entry), 'the server text is kept, masked'


@pytest.mark.parametrize('status', [400, 409])
def test_an_echoing_single_cancel_with_a_cut_token_leaks_no_fragment_at_vvv(harness, status):
    harness.emu.add_fault({'match': {'method': 'POST', 'path': '/cancel$'}, 'action': 'echo', 'status': status, 'cut_chars': 3,
                           'error_code': 'Conflict' if status == 409 else None})
    run = harness.play([harness.cancel_task()], args=('-vvv',))
    assert [e['status'] for e in harness.cancel_posts()] == [status]
    assert (run.rc != 0) == (status == 400) and harness.issued_tokens()
    assert leaked_fragments(harness, run) == []
    result = run.result()
    assert result['changed'] is False and result['status_code'] == status
    assert 'The request could not be processed' in result['error']['message']


# ----- nextLinks that are not Graph's own absolute URLs --------------------------------------------

@pytest.mark.parametrize('how, why', [('relative', 'it is relative'), ('upper_scheme', 'its scheme is not https as Graph writes it')])
def test_a_relative_or_upper_case_scheme_next_link_is_refused_not_glued(harness, how, why):
    small_pages(harness)
    harness.emu.add_fault({'match': {'method': 'GET', 'path': '/users$'}, 'action': 'rewrite', 'rewrite': {'next_link': how}})
    run = harness.play([task_info(harness)])
    assert run.rc != 0
    msg = run.result()['msg']
    assert '@odata.nextLink' in msg and why in msg and 'was refused; it was not followed' in msg
    assert 'not found' not in msg.lower()
    graph_reads = harness.requests(kind='graph', method='GET')
    assert len(listing_reads(harness)) == 1, 'the first page only'
    assert not [e for e in graph_reads if '/v1.0/v1.0' in e['path'] or 'HTTPS' in e['path'] or e['status'] == 404], 'nothing glued was sent'


# ----- a read answering for another id ---------------------------------------------------------------

def test_a_task_read_answering_another_task_is_refused(harness):
    harness.emu.add_fault({'match': {'method': 'GET', 'path': TASK_ACTIVE + '$'}, 'action': 'rewrite', 'rewrite': {'id': TASK_ACTIVE_2}})
    run = harness.play([task_info(harness, task_id=TASK_ACTIVE)])
    assert run.rc != 0
    result = run.result()
    assert 'Reading task %s in job %s returned task %s instead, so the reply was refused' % (TASK_ACTIVE, JOB, TASK_ACTIVE_2) in result['msg']
    assert 'tasks' not in result and result['changed'] is False
    assert [e['fault'] for e in harness.requests(kind='graph', method='GET') if e['path'].endswith(TASK_ACTIVE)] == ['rewrite id']


# ----- listings with tasks without ids or listed twice ------------------------------------------------

def test_a_listed_task_without_an_id_fails_the_listing_clearly(harness):
    harness.emu.add_fault({'match': {'method': 'GET', 'path': '/users$'}, 'action': 'rewrite', 'rewrite': {'drop_item_id': 1}})
    run = harness.play([task_info(harness)])
    assert run.rc != 0
    result = run.result()
    assert 'returned 1 item(s) without a usable task id (a GUID)' in result['msg'] and 'nothing was judged from the listing' in result['msg']
    assert 'tasks' not in result and 'task_ids' not in result


def test_a_task_listed_twice_differently_fails_and_twice_alike_is_taken_once(harness):
    harness.emu.add_fault({'match': {'method': 'GET', 'path': '/users$'}, 'action': 'rewrite', 'rewrite': {'duplicate_item': 0}})
    harness.emu.add_fault({'match': {'method': 'GET', 'path': '/users$'}, 'action': 'rewrite', 'rewrite': {'repeat_item': 2}})
    run = harness.play([dict(task_info(harness), ignore_errors=True), task_info(harness)])
    differing, alike = run.result(0), run.result(1)
    assert run.status(0) == 'failed'
    assert 'returned 1 task(s) more than once with different contents (%s)' % TASK_ACTIVE in differing['msg']
    assert 'tasks' not in differing
    assert run.status(1) == 'ok', run.output
    assert alike['task_ids'] == [TASK_ACTIVE, TASK_ACTIVE_2, TASK_COMPLETED, TASK_CANCELLED]
    assert sum(alike['counts'][state] for state in ('cancellable', 'already_cancelled', 'not_cancellable')) == 4


# ----- the cap on one listing ----------------------------------------------------------------------------

def test_a_listing_over_the_cap_fails_naming_the_cap(harness):
    scenario = base_scenario()
    scenario['settings']['page_size'] = 1000
    scenario['jobs'][0]['generate_tasks'] = {'count': LISTING_CAP}
    harness.emu.reset(scenario)
    run = harness.play([task_info(harness, state=['cancellable'])])
    assert run.rc != 0
    result = run.result()
    assert 'returned more than %d items, the most one listing may hold' % LISTING_CAP in result['msg']
    assert 'tasks' not in result
    assert len(listing_reads(harness)) == LISTING_CAP // 1000 + 1, 'stopped at the page that went over'
