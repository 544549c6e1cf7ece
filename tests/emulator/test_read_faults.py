# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Faults for reads and echoed credentials: an echo that quotes credentials with characters cut off each end,
and action: rewrite, which changes the real reply (nextLinks, ids, listed items)."""

from __future__ import annotations

import copy

import pytest

from emu_helpers import APP, GRAPH_SCOPE, JOB, JOBS, SECRET, TASK, TASK_2, TENANT, WRITE_ROLE, bearer, scenario, task_url
from msgraph_emulator import FaultError

CANCEL = '/cancel$'
TASKS = JOBS + '/' + JOB + '/users'


def small_pages(emu, app_cert):
    """Pages of 2 tasks; a new token (a reset forgets the tokens)."""
    data = copy.deepcopy(scenario(app_cert[0]))
    data['settings']['page_size'] = 2
    emu.reset(data)
    return emu.mint_token(TENANT, APP, [WRITE_ROLE])


# ----- echo with cut credentials ------------------------------------------------------------------

def test_echo_cut_quotes_the_token_without_its_scheme_and_ends(emu, http, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'echo', 'status': 409, 'error_code': 'Conflict', 'cut_chars': 3})
    resp = http.post(emu.url + task_url() + '/cancel', headers=bearer(token))
    message = resp.json()['error']['message']
    assert resp.status_code == 409 and resp.json()['error']['code'] == 'Conflict'
    assert 'Authorization: %s\n' % token[3:-3] in message
    assert token not in message and 'Bearer' not in message
    assert emu.requests()[-1]['fault'] == 'echo cut 3 status 409'


def test_echo_cut_in_a_batch_sub_response(emu, http, token):
    emu.add_fault({'match': {'in_batch': True}, 'action': 'echo', 'cut_chars': 2})
    body = http.post(emu.url + '/v1.0/$batch', headers=bearer(token),
                     json={'requests': [{'id': '1', 'method': 'POST', 'url': task_url()[len('/v1.0'):] + '/cancel'}]}).json()
    message = body['responses'][0]['body']['error']['message']
    assert body['responses'][0]['status'] == 400 and token[2:-2] in message and token not in message


def test_echo_cut_of_a_token_request_cuts_the_secret_in_the_form(emu, http):
    emu.add_fault({'match': {'kind': 'token'}, 'action': 'echo', 'cut_chars': 4})
    form = {'grant_type': 'client_credentials', 'client_id': APP, 'client_secret': SECRET, 'scope': GRAPH_SCOPE}
    description = http.post(emu.url + '/%s/oauth2/v2.0/token' % TENANT, data=form).json()['error_description']
    assert 'client_secret=%s&' % SECRET[4:-4] in description and SECRET not in description and 'client_id=%s' % APP in description


@pytest.mark.parametrize('rule, words', [
    ({'action': 'hang', 'seconds': 1, 'cut_chars': 2}, 'cut_chars is only for action: echo'),
    ({'action': 'echo', 'cut_chars': -1}, 'cut_chars must be an integer'),
    ({'action': 'rewrite'}, 'action rewrite needs a rewrite mapping'),
    ({'action': 'rewrite', 'rewrite': {'colour': 'red'}}, 'unknown rewrite keys: colour'),
    ({'action': 'rewrite', 'rewrite': {'id': 7}}, 'rewrite.id must be a string'),
    ({'action': 'rewrite', 'rewrite': {'drop_item_id': 'first'}}, 'rewrite.drop_item_id must be an integer'),
    ({'action': 'rewrite', 'status': 200, 'rewrite': {'id': 'x'}}, 'status and body are not allowed'),
    ({'status': 200, 'rewrite': {'id': 'x'}}, 'rewrite is only for action: rewrite'),
])
def test_bad_rules_are_refused(emu, rule, words):
    with pytest.raises(FaultError, match=words):
        emu.add_fault(rule)


# ----- rewrite ----------------------------------------------------------------------------------------

def test_rewrite_makes_a_read_answer_with_another_id_and_does_the_real_read(emu, http, token):
    emu.add_fault({'match': {'method': 'GET', 'path': TASK + '$'}, 'action': 'rewrite', 'rewrite': {'id': TASK_2}})
    body = http.get(emu.url + task_url(), headers=bearer(token)).json()
    assert body['id'] == TASK_2 and body['currentStatus'][0]['status'] == 'inProgress', 'the real task, relabelled'
    entry = emu.requests()[-1]
    assert entry['status'] == 200 and entry['fault'] == 'rewrite id'
    assert http.get(emu.url + task_url(), headers=bearer(token)).json()['id'] == TASK, 'times: 1 by default'


@pytest.mark.parametrize('how, expected', [('relative', '/v1.0/'), ('upper_scheme', 'HTTPS://127.0.0.1:'), ('ftp://x/y', 'ftp://x/y')])
def test_rewrite_changes_the_next_link(emu, http, app_cert, how, expected):
    token = small_pages(emu, app_cert)
    emu.add_fault({'match': {'method': 'GET', 'path': '/users$'}, 'action': 'rewrite', 'rewrite': {'next_link': how}})
    link = http.get(emu.url + TASKS, headers=bearer(token)).json()['@odata.nextLink']
    assert link.startswith(expected)
    if how != 'ftp://x/y':
        assert '$skiptoken=' in link and TASKS in link


def test_rewrite_drops_an_id_repeats_and_duplicates_listed_items(emu, http, token):
    emu.add_fault({'match': {'path': '/users$'}, 'action': 'rewrite', 'rewrite': {'drop_item_id': 2, 'repeat_item': 0, 'duplicate_item': 1}})
    items = http.get(emu.url + TASKS, headers=bearer(token)).json()['value']
    assert 'id' not in items[2] and len(items) == 5 + 2
    assert items[5] == items[0], 'repeated alike'
    assert items[6]['id'] == items[1]['id'] == TASK_2 and items[6] != items[1]
    assert {w['status'] for w in items[6]['currentStatus']} == {'completed'}, 'the twin disagrees'
    assert emu.task(JOB, TASK_2)['currentStatus'][0]['status'] == 'syncing', 'the state is untouched'


def test_rewrite_leaves_errors_alone(emu, http, token):
    emu.add_fault({'match': {'method': 'GET'}, 'action': 'rewrite', 'rewrite': {'id': TASK_2}})
    resp = http.get(emu.url + task_url(task='ffffffff-ffff-4fff-8fff-ffffffffffff'), headers=bearer(token))
    assert resp.status_code == 404 and resp.json()['error']['code'] == 'ResourceNotFound'
