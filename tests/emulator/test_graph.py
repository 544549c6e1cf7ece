# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Graph cross-tenant migration endpoints: auth, roles, reads, paging, cancels, conflicts, not-found."""

from __future__ import annotations

import time

import pytest

from emu_helpers import (APP, JOB, JOB_B, JOB_CUTOVER, JOB_EXTRA, JOB_PAST, JOBS, MISSING, OTHER_TASK, READ_ROLE, TASK, TASK_2, TASK_CANCELLED,
                         TASK_DONE, TASK_FINALIZING, TENANT, TENANT_B, WRITE_ROLE, bearer, task_url)


def assert_graph_error(resp, status, code):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body['error']['code'] == code
    inner = body['error']['innerError']
    assert inner['request-id'] == resp.headers['request-id']
    assert inner['client-request-id'] == resp.headers['client-request-id']
    assert resp.headers['Content-Type'].startswith('application/json')
    return body['error']['message']


def test_tls_trusts_only_the_written_ca(emu, http, token):
    import requests

    with open(emu.ca_file, encoding='ascii') as handle:
        assert handle.read().startswith('-----BEGIN CERTIFICATE-----')
    assert http.get(emu.url + JOBS, headers=bearer(token)).status_code == 200
    assert http.get('https://localhost:%d%s' % (emu.port, JOBS), headers=bearer(token)).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emu.url + JOBS, headers=bearer(token), verify=True, timeout=5)


def test_authentication_errors(emu, http):
    message = assert_graph_error(http.get(emu.url + JOBS), 401, 'InvalidAuthenticationToken')
    assert message == 'Access token is empty.'
    message = assert_graph_error(http.get(emu.url + JOBS, headers=bearer('made-up')), 401, 'InvalidAuthenticationToken')
    assert message == 'Invalid token'
    expired = emu.mint_token(TENANT, APP, [WRITE_ROLE], expires_in=-1)
    message = assert_graph_error(http.get(emu.url + JOBS, headers=bearer(expired)), 401, 'InvalidAuthenticationToken')
    assert message == 'Lifetime validation failed, the token is expired.'
    fresh = emu.mint_token(TENANT, APP, [WRITE_ROLE])
    assert http.get(emu.url + JOBS, headers=bearer(fresh)).status_code == 200
    emu.expire_tokens()
    assert_graph_error(http.get(emu.url + JOBS, headers=bearer(fresh)), 401, 'InvalidAuthenticationToken')


def test_client_request_id_is_echoed(emu, http, token):
    resp = http.get(emu.url + JOBS, headers=dict(bearer(token), **{'client-request-id': '8d0fbe4f-0c7a-4f6b-8c1e-3c1b1d1e2f3a'}))
    assert resp.headers['client-request-id'] == '8d0fbe4f-0c7a-4f6b-8c1e-3c1b1d1e2f3a'
    assert len(resp.headers['request-id']) == 36


def test_roles(emu, http):
    reader = emu.mint_token(TENANT, APP, [READ_ROLE])
    assert http.get(emu.url + task_url(), headers=bearer(reader)).status_code == 200
    message = assert_graph_error(http.post(emu.url + task_url() + '/cancel', headers=bearer(reader)), 403, 'Authorization_RequestDenied')
    assert message == ("Missing role permissions on the request. API requires one of 'CrossTenantContentMigration.ReadWrite.All'. "
                       "Roles on the request 'CrossTenantContentMigration.Read.All'.")
    nobody = emu.mint_token(TENANT, APP, [])
    message = assert_graph_error(http.get(emu.url + JOBS, headers=bearer(nobody)), 403, 'Authorization_RequestDenied')
    assert "'CrossTenantContentMigration.Read.All, CrossTenantContentMigration.ReadWrite.All'" in message
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'inProgress'


def test_get_job_and_task(emu, http, token):
    job = http.get(emu.url + JOBS + '/' + JOB, headers=bearer(token)).json()
    assert job['id'] == JOB and job['status'] == 'inProgress' and job['targetTenantId'] == TENANT
    assert job['completeAfterDateTime'] == '2099-01-01T00:00:00Z'
    assert job['resources'][:2] == [TASK, TASK_2] and job['workloads'] == ['Exchange', 'ODSP', 'Teams']
    task = http.get(emu.url + task_url(), headers=bearer(token)).json()
    assert task['id'] == TASK and task['taskType'] == 'Users'
    assert [(s['service'], s['status']) for s in task['currentStatus']] == [('Exchange', 'inProgress'), ('ODSP', 'notStarted'), ('Teams', 'notStarted')]
    assert all(s['errors'] == [] and 'message' in s for s in task['currentStatus'])
    # ids compare case-insensitively; beta answers too
    upper = http.get(emu.url + task_url(JOB.upper(), TASK.upper(), version='beta'), headers=bearer(token))
    assert upper.status_code == 200 and upper.json()['id'] == TASK


def test_paging(emu, http, token):
    emu.reset(dict(_small_pages(), settings={'page_size': 2}))
    token = emu.mint_token(TENANT, APP, [READ_ROLE])
    url, seen, pages = emu.url + JOBS + '/' + JOB + '/users', [], 0
    for _page in range(10):
        body = http.get(url, headers=bearer(token)).json()
        pages += 1
        assert '@odata.context' in body
        seen.extend(item['id'] for item in body['value'])
        url = body.get('@odata.nextLink')
        if not url:
            break
        assert url.startswith(emu.url + '/v1.0/') and '$skiptoken=' in url
    assert pages == 3 and len(seen) == 5 and len(set(seen)) == 5
    jobs = http.get(emu.url + JOBS, headers=bearer(token)).json()
    assert len(jobs['value']) == 2 and '@odata.nextLink' in jobs
    top = http.get(emu.url + JOBS + '/' + JOB + '/users?$top=1', headers=bearer(token)).json()
    assert len(top['value']) == 1 and '$top=1' in top['@odata.nextLink']
    assert_graph_error(http.get(emu.url + JOBS + '?$skiptoken=garbage', headers=bearer(token)), 400, 'BadRequest')


def _small_pages():
    from emu_helpers import scenario

    data = scenario()
    data['jobs'][0]['tasks'] = data['jobs'][0]['tasks'][:5]
    return data


def test_tenant_isolation(emu, http, token):
    ids = [job['id'] for job in http.get(emu.url + JOBS, headers=bearer(token)).json()['value']]
    assert JOB in ids and JOB_B not in ids
    assert_graph_error(http.get(emu.url + JOBS + '/' + JOB_B, headers=bearer(token)), 404, 'ResourceNotFound')
    token_b = emu.mint_token(TENANT_B, APP, [WRITE_ROLE])
    assert [job['id'] for job in http.get(emu.url + JOBS, headers=bearer(token_b)).json()['value']] == [JOB_B]


def test_cancel_task_then_pending_then_cancelled(emu, http, token):
    before = emu.task(JOB, TASK)['lastUpdatedDateTime']
    resp = http.post(emu.url + task_url() + '/cancel', headers=bearer(token))
    assert resp.status_code == 202
    assert resp.json()['status'] == 'Accepted'
    assert resp.json()['message'] == 'Cancellation request for user id: %s from batch: %s was accepted.' % (TASK, JOB)
    task = http.get(emu.url + task_url(), headers=bearer(token)).json()
    assert {s['status'] for s in task['currentStatus']} == {'pendingCancel'}
    assert task['lastUpdatedDateTime'] > before
    message = assert_graph_error(http.post(emu.url + task_url() + '/cancel', headers=bearer(token)), 409, 'Conflict')
    assert message == 'Cancel is not possible. Current status is pendingCancel'
    time.sleep(0.45)  # cancel_delay_seconds is 0.3 in the test scenario
    assert {s['status'] for s in emu.task(JOB, TASK)['currentStatus']} == {'cancelled'}
    assert emu.task(JOB, TASK_2)['currentStatus'][0]['status'] == 'syncing'


@pytest.mark.parametrize('job, task, blocking', [
    (JOB, TASK_DONE, 'completed'),
    (JOB, TASK_CANCELLED, 'cancelled'),
    (JOB, TASK_FINALIZING, 'Finalizing'),
    (JOB_CUTOVER, OTHER_TASK, 'cuttingOver'),
])
def test_cancel_task_conflicts(emu, http, token, job, task, blocking):
    before = emu.task(job, task)
    message = assert_graph_error(http.post(emu.url + task_url(job, task) + '/cancel', headers=bearer(token)), 409, 'Conflict')
    assert message == 'Cancel is not possible. Current status is %s' % blocking
    assert emu.task(job, task) == before


def test_cancel_after_complete_after_date_time(emu, http, token):
    message = assert_graph_error(http.post(emu.url + task_url(JOB_PAST, OTHER_TASK) + '/cancel', headers=bearer(token)), 409, 'Conflict')
    assert message.startswith('Cancel is not possible. Current status is inProgress') and 'completeAfterDateTime' in message
    assert_graph_error(http.post(emu.url + JOBS + '/' + JOB_PAST + '/cancel', headers=bearer(token)), 409, 'Conflict')


def test_not_found_and_bad_ids(emu, http, token):
    message = assert_graph_error(http.post(emu.url + task_url(MISSING, TASK) + '/cancel', headers=bearer(token)), 404, 'ResourceNotFound')
    assert message == "Job '%s' was not found" % MISSING
    message = assert_graph_error(http.post(emu.url + task_url(JOB, MISSING) + '/cancel', headers=bearer(token)), 404, 'ResourceNotFound')
    assert message == "User '%s' is not part of job '%s'" % (MISSING, JOB)
    assert_graph_error(http.get(emu.url + task_url(JOB, MISSING), headers=bearer(token)), 404, 'ResourceNotFound')
    assert_graph_error(http.post(emu.url + task_url(JOB, 'not-a-guid') + '/cancel', headers=bearer(token)), 400, 'BadRequest')
    assert_graph_error(http.get(emu.url + JOBS + '/123', headers=bearer(token)), 400, 'BadRequest')


def test_unknown_paths_and_methods(emu, http, token):
    assert_graph_error(http.get(emu.url + '/v1.0/me', headers=bearer(token)), 404, 'ResourceNotFound')
    assert_graph_error(http.get(emu.url + '/v2.0/solutions', headers=bearer(token)), 404, 'ResourceNotFound')
    assert_graph_error(http.get(emu.url + task_url() + '/nothing', headers=bearer(token)), 404, 'ResourceNotFound')
    resp = http.get(emu.url + task_url() + '/cancel', headers=bearer(token))
    assert_graph_error(resp, 405, 'MethodNotAllowed')
    assert resp.headers['Allow'] == 'POST'
    assert_graph_error(http.delete(emu.url + task_url(), headers=bearer(token)), 405, 'MethodNotAllowed')


def test_cancel_job(emu, http, token):
    resp = http.post(emu.url + JOBS + '/' + JOB_EXTRA + '/cancel', headers=bearer(token))
    assert resp.status_code == 202
    body = resp.json()
    assert body['id'] == JOB_EXTRA and body['status'] == 'pendingCancel'
    assert emu.job(JOB_EXTRA)['status'] == 'pendingCancel'
    assert emu.task(JOB_EXTRA, OTHER_TASK)['currentStatus'][0]['status'] == 'pendingCancel'
    assert_graph_error(http.post(emu.url + JOBS + '/' + JOB_EXTRA + '/cancel', headers=bearer(token)), 409, 'Conflict')
    assert_graph_error(http.post(emu.url + JOBS + '/' + JOB_CUTOVER + '/cancel', headers=bearer(token)), 409, 'Conflict')
    time.sleep(0.45)
    assert emu.job(JOB_EXTRA)['status'] == 'cancelled'
    assert emu.task(JOB_EXTRA, OTHER_TASK)['currentStatus'][0]['status'] == 'cancelled'
    # a task of a cancelled job cannot be cancelled
    assert_graph_error(http.post(emu.url + task_url(JOB_EXTRA, OTHER_TASK) + '/cancel', headers=bearer(token)), 409, 'Conflict')


def test_default_scenario():
    from msgraph_emulator import Emulator

    with Emulator() as server:
        token = server.mint_token('00000000-0000-4000-8000-0000000000aa', APP, [WRITE_ROLE])
        import requests

        url = server.url + task_url('add14989-2b21-4001-81bd-a18b0bac1dea', '6a88de8d-7027-44c1-8674-03f826aa1704') + '/cancel'
        resp = requests.post(url, headers=bearer(token), verify=server.ca_file, timeout=5)
        assert resp.status_code == 202
        jobs = server.state()['jobs']
        assert len(jobs) == 1 and len(jobs[0]['tasks']) == 3
        statuses = [[w['status'] for w in t['currentStatus']] for t in jobs[0]['tasks']]
        assert statuses[1][0] == 'completed' and set(statuses[2]) == {'cancelled'}
        assert server.state()['settings']['cancel_delay_seconds'] == 2
