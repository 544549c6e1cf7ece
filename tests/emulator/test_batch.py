# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""JSON batching: dispatch through the same handlers, per-request faults, order, limits, dependsOn, lost replies."""

from __future__ import annotations

import pytest
import requests

from emu_helpers import JOB, MISSING, TASK, TASK_2, TASK_DONE, bearer

BATCH = '/v1.0/$batch'


def cancel(sub_id, task, job=JOB, leading_slash=True):
    url = 'solutions/migrations/crossTenantMigrationJobs/%s/users/%s/cancel' % (job, task)
    return {'id': sub_id, 'method': 'POST', 'url': ('/' if leading_slash else '') + url}


def by_id(body):
    return {item['id']: item for item in body['responses']}


def test_batch_dispatches_each_request(emu, http, token):
    subs = [cancel('1', TASK), cancel('2', TASK_DONE, leading_slash=False), cancel('3', MISSING),
            {'id': '4', 'method': 'GET', 'url': '/solutions/migrations/crossTenantMigrationJobs/%s/users/%s' % (JOB, TASK_2)}]
    resp = http.post(emu.url + BATCH, json={'requests': subs}, headers=bearer(token))
    assert resp.status_code == 200
    body = resp.json()
    assert [item['id'] for item in body['responses']] == ['4', '3', '2', '1']  # batch_order: reversed
    answers = by_id(body)
    assert answers['1']['status'] == 202 and answers['1']['body']['status'] == 'Accepted'
    assert answers['2']['status'] == 409 and answers['2']['body']['error']['code'] == 'Conflict'
    assert answers['3']['status'] == 404
    assert answers['4']['status'] == 200 and answers['4']['body']['id'] == TASK_2
    assert answers['1']['headers']['Content-Type'].startswith('application/json')
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'pendingCancel'
    log = emu.requests()
    subs_logged = [e for e in log if e.get('batch_request_id')]
    assert [e['batch_request_id'] for e in subs_logged] == ['1', '2', '3', '4']
    assert subs_logged[0]['path'] == '/v1.0/solutions/migrations/crossTenantMigrationJobs/%s/users/%s/cancel' % (JOB, TASK)
    assert subs_logged[0]['status'] == 202 and subs_logged[0]['kind'] == 'graph' and subs_logged[0]['authorization'] == 'Bearer'
    assert log[-1]['kind'] == 'batch' and log[-1]['status'] == 200 and 'batch_request_id' not in log[-1]


def test_batch_order_as_sent(emu, http, app_cert):
    from emu_helpers import APP, TENANT, WRITE_ROLE, scenario

    data = scenario(app_cert[0])
    data['settings']['batch_order'] = 'as_sent'
    emu.reset(data)
    token = emu.mint_token(TENANT, APP, [WRITE_ROLE])
    body = http.post(emu.url + '/beta/$batch', json={'requests': [cancel('a', TASK), cancel('b', TASK_2)]}, headers=bearer(token)).json()
    assert [item['id'] for item in body['responses']] == ['a', 'b']


def test_throttled_sub_request(emu, http, token):
    emu.add_fault({'match': {'in_batch': True, 'path': TASK_2}, 'status': 429, 'retry_after': '2.128'})
    resp = http.post(emu.url + BATCH, json={'requests': [cancel('1', TASK), cancel('2', TASK_2)]}, headers=bearer(token))
    answers = by_id(resp.json())
    assert resp.status_code == 200 and 'Retry-After' not in resp.headers
    assert answers['2']['status'] == 429 and answers['2']['headers']['Retry-After'] == '2.128'
    assert answers['2']['body']['error']['code'] == 'TooManyRequests'
    assert answers['1']['status'] == 202
    assert emu.task(JOB, TASK_2)['currentStatus'][0]['status'] == 'syncing'  # the throttled one did nothing
    throttled = [e for e in emu.requests() if e.get('batch_request_id') == '2'][0]
    assert throttled['status'] == 429 and throttled['fault'] == 'status 429 Retry-After 2.128'


@pytest.mark.parametrize('count', [0, 21])
def test_batch_size_limits(emu, http, token, count):
    subs = [cancel(str(i), TASK) for i in range(count)]
    resp = http.post(emu.url + BATCH, json={'requests': subs}, headers=bearer(token))
    assert resp.status_code == 400
    error = resp.json()['error']
    assert error['code'] == 'BadRequest' and '20' in error['message']
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'inProgress'


def test_batch_of_twenty_is_fine(emu, http, token):
    subs = [{'id': str(i), 'method': 'GET', 'url': '/solutions/migrations/crossTenantMigrationJobs/%s' % JOB} for i in range(20)]
    body = http.post(emu.url + BATCH, json={'requests': subs}, headers=bearer(token)).json()
    assert sorted(item['status'] for item in body['responses']) == [200] * 20


def test_batch_malformed(emu, http, token):
    for payload in ({'requests': 'x'}, {'requests': [{'id': '1', 'method': 'POST'}]}, {'requests': [cancel('1', TASK), cancel('1', TASK_2)]},
                    {'requests': [dict(cancel('1', TASK), dependsOn=['9'])]}):
        resp = http.post(emu.url + BATCH, json=payload, headers=bearer(token))
        assert resp.status_code == 400 and resp.json()['error']['code'] == 'BadRequest'
    assert http.post(emu.url + BATCH, data=b'{not json', headers=bearer(token)).status_code == 400
    assert http.post(emu.url + BATCH, json={'requests': [cancel('1', TASK)]}).status_code == 401
    assert http.get(emu.url + BATCH, headers=bearer(token)).status_code == 405


def test_depends_on_a_failed_request(emu, http, token):
    subs = [cancel('1', TASK_DONE), dict(cancel('2', TASK), dependsOn=['1'])]
    answers = by_id(http.post(emu.url + BATCH, json={'requests': subs}, headers=bearer(token)).json())
    assert answers['1']['status'] == 409 and answers['2']['status'] == 424
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'inProgress'


def test_lost_batch_reply_after_the_work(emu, http, token):
    emu.add_fault({'match': {'kind': 'batch'}, 'action': 'drop_after_work'})
    with pytest.raises(requests.exceptions.ConnectionError):
        http.post(emu.url + BATCH, json={'requests': [cancel('1', TASK), cancel('2', TASK_2)]}, headers=bearer(token))
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'pendingCancel'
    assert emu.task(JOB, TASK_2)['currentStatus'][0]['status'] == 'pendingCancel'
    outer = [e for e in emu.requests() if e['kind'] == 'batch'][0]
    assert outer['status'] is None and outer['fault'].startswith('drop_after_work')


def test_a_dropped_sub_request_loses_the_whole_reply(emu, http, token):
    emu.add_fault({'match': {'in_batch': True, 'path': TASK_2}, 'action': 'drop'})
    with pytest.raises(requests.exceptions.ConnectionError):
        http.post(emu.url + BATCH, json={'requests': [cancel('1', TASK), cancel('2', TASK_2)]}, headers=bearer(token))
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'pendingCancel'
    assert emu.task(JOB, TASK_2)['currentStatus'][0]['status'] == 'syncing'
    # the connection pool recovers
    assert http.get(emu.url + '/v1.0/solutions/migrations/crossTenantMigrationJobs', headers=bearer(token)).status_code == 200


def test_envelope_log_entry_carries_the_batch_size(emu, http, token):
    http.post(emu.url + BATCH, json={'requests': [cancel('1', TASK), cancel('2', TASK_2), cancel('3', MISSING)]}, headers=bearer(token))
    http.post(emu.url + BATCH, json={'requests': [cancel(str(i), TASK) for i in range(21)]}, headers=bearer(token))
    http.post(emu.url + BATCH, data=b'{not json', headers=bearer(token))
    emu.add_fault({'match': {'kind': 'batch'}, 'status': 429, 'retry_after': 1})
    http.post(emu.url + BATCH, json={'requests': [cancel('1', TASK_2)]}, headers=bearer(token))
    envelopes = [e for e in emu.requests() if e['kind'] == 'batch']
    assert [(e['status'], e['batch_size']) for e in envelopes] == [(200, 3), (400, 21), (400, None), (429, 1)]
    assert all('batch_size' not in e for e in emu.requests() if e['kind'] != 'batch')
