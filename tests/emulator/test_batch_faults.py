# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Hostile $batch replies: a sub-response repeated with another answer, non-finite Retry-After values sent verbatim."""

from __future__ import annotations

import pytest

from msgraph_emulator import FaultError

from emu_helpers import JOB, TASK, TASK_2, bearer
from test_batch import BATCH, cancel


def test_duplicate_repeats_the_id_with_the_rules_answer_after_the_work(emu, http, token):
    emu.add_fault({'match': {'in_batch': True, 'path': TASK + '/cancel$'}, 'action': 'duplicate', 'status': 409, 'error_code': 'Conflict'})
    body = http.post(emu.url + BATCH, json={'requests': [cancel('1', TASK), cancel('2', TASK_2)]}, headers=bearer(token)).json()
    answers = [(item['id'], item['status']) for item in body['responses']]
    assert sorted(answers) == [('1', 202), ('1', 409), ('2', 202)]
    # batch_order: reversed (the default scenario) turns the whole list round: the repeat comes first.
    repeat, real = [item for item in body['responses'] if item['id'] == '1']
    assert (repeat['status'], real['status']) == (409, 202) and repeat['body']['error']['code'] == 'Conflict'
    # The work was done once: the task is pendingCancel, and one sub-request was logged for it.
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'pendingCancel'
    logged = [e for e in emu.requests() if e.get('batch_request_id') == '1']
    assert len(logged) == 1 and logged[0]['status'] == 202 and logged[0]['fault'] == 'duplicate status 409 (work answered 202)'


@pytest.mark.parametrize('spec', [
    {'action': 'duplicate', 'match': {'in_batch': True}},
    {'action': 'duplicate', 'status': 409},
    {'action': 'duplicate', 'status': 409, 'match': {'in_batch': False}},
])
def test_duplicate_needs_a_status_and_in_batch(emu, spec):
    with pytest.raises(FaultError, match='action duplicate needs'):
        emu.add_fault(spec)


@pytest.mark.parametrize('value', ['inf', '1e999', 'Infinity', '-5', 'NaN'])
def test_retry_after_is_sent_verbatim_in_a_sub_response(emu, http, token, value):
    emu.add_fault({'match': {'in_batch': True, 'path': TASK_2}, 'status': 429, 'retry_after': value})
    body = http.post(emu.url + BATCH, json={'requests': [cancel('1', TASK), cancel('2', TASK_2)]}, headers=bearer(token)).json()
    throttled = [item for item in body['responses'] if item['id'] == '2'][0]
    assert throttled['status'] == 429 and throttled['headers']['Retry-After'] == value
    assert emu.task(JOB, TASK_2)['currentStatus'][0]['status'] == 'syncing'
