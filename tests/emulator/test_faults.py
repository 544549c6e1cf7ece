# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fault rules: each kind of the roadmap's fault matrix, counters, matching."""

from __future__ import annotations

import time

import pytest
import requests

from emu_helpers import APP, GRAPH_SCOPE, JOB, JOBS, MI_HEADER, SECRET, TASK, TENANT, bearer, task_url
from msgraph_emulator import FaultError

CANCEL = '/cancel$'


def post_cancel(emu, http, token):
    return http.post(emu.url + task_url() + '/cancel', headers=bearer(token))


@pytest.mark.parametrize('status, retry_after', [(429, '2'), (429, '2.128'), (429, 200), (503, '1'), (504, None)])
def test_status_with_retry_after(emu, http, token, status, retry_after):
    emu.add_fault({'match': {'method': 'POST', 'path': CANCEL}, 'status': status, 'retry_after': retry_after})
    first = post_cancel(emu, http, token)
    assert first.status_code == status
    assert first.headers.get('Retry-After') == (None if retry_after is None else str(retry_after))
    assert first.json()['error']['innerError']['request-id'] == first.headers['request-id']
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'inProgress'  # nothing happened
    assert post_cancel(emu, http, token).status_code == 202  # times defaults to 1


def test_forever_skip_and_times(emu, http, token):
    emu.add_fault({'match': {'kind': 'graph', 'method': 'GET'}, 'status': 503, 'times': 0, 'skip': 1})
    statuses = [http.get(emu.url + JOBS, headers=bearer(token)).status_code for _attempt in range(5)]
    assert statuses == [200, 503, 503, 503, 503]
    emu.clear_faults()
    emu.add_fault({'match': {'path': '/users/'}, 'status': 500, 'times': 2, 'error_code': 'UnknownError', 'error_message': 'boom'})
    answers = [http.get(emu.url + task_url(), headers=bearer(token)) for _attempt in range(3)]
    assert [a.status_code for a in answers] == [500, 500, 200]
    assert answers[0].json()['error'] == dict(answers[0].json()['error'], code='UnknownError', message='boom')
    assert emu.faults()[0]['remaining'] == 0 and emu.faults()[0]['applied'] == 2


def test_every_and_probability(emu, http, token):
    emu.add_fault({'match': {'method': 'GET'}, 'status': 429, 'retry_after': '0', 'every': 3, 'times': 0})
    statuses = [http.get(emu.url + JOBS, headers=bearer(token)).status_code for _attempt in range(7)]
    assert statuses == [200, 200, 429, 200, 200, 429, 200]
    assert emu.requests()[2]['fault'] == 'status 429 Retry-After 0 (every 3)'
    emu.clear_faults()
    emu.add_fault({'match': {'method': 'GET'}, 'status': 429, 'probability': 0.5, 'seed': 7, 'times': 0})
    first = [http.get(emu.url + JOBS, headers=bearer(token)).status_code for _attempt in range(20)]
    emu.clear_faults()
    emu.add_fault({'match': {'method': 'GET'}, 'status': 429, 'probability': 0.5, 'seed': 7, 'times': 0})
    second = [http.get(emu.url + JOBS, headers=bearer(token)).status_code for _attempt in range(20)]
    assert first == second and 0 < first.count(429) < 20  # seeded: the same sequence every run


def test_first_matching_rule_wins(emu, http, token):
    emu.add_fault([{'match': {'method': 'POST'}, 'status': 503}, {'match': {'method': 'POST'}, 'status': 504}])
    assert [post_cancel(emu, http, token).status_code for _attempt in range(3)] == [503, 504, 202]


def test_drop_after_work(emu, http, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'drop_after_work'})
    with pytest.raises(requests.exceptions.ConnectionError):
        post_cancel(emu, http, token)
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'pendingCancel'
    second = post_cancel(emu, http, token)
    assert second.status_code == 409  # the retry meets its own earlier success
    entries = [(e['status'], e['fault']) for e in emu.requests()]
    assert entries == [(None, 'drop_after_work (work answered 202)'), (409, None)]


def test_status_after_work(emu, http, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'status_after_work', 'status': 429, 'retry_after': '1'})
    first = post_cancel(emu, http, token)
    assert first.status_code == 429 and first.headers['Retry-After'] == '1'
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'pendingCancel'
    assert post_cancel(emu, http, token).status_code == 409
    assert [(e['status'], e['fault']) for e in emu.requests()] == [(429, 'status_after_work status 429 Retry-After 1 (work answered 202)'), (409, None)]


@pytest.mark.parametrize('status', [502, 504])
def test_gateway_error_after_the_work(emu, http, token, status):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'status_after_work', 'status': status})
    first = post_cancel(emu, http, token)
    assert first.status_code == status and first.json()['error']['code'] in ('BadGateway', 'GatewayTimeout')
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'pendingCancel'  # the service behind the gateway did it
    assert emu.requests()[0]['fault'] == 'status_after_work status %d (work answered 202)' % status


def test_drop(emu, http, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'drop'})
    with pytest.raises(requests.exceptions.ConnectionError):
        post_cancel(emu, http, token)
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'inProgress'
    assert post_cancel(emu, http, token).status_code == 202


def test_hang_provokes_a_read_timeout(emu, http, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'hang', 'seconds': 1.0})
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.post(emu.url + task_url() + '/cancel', headers=bearer(token), timeout=0.3)
    assert time.monotonic() - started < 0.9
    time.sleep(1.0)
    # after the hang the request was carried out (the client had gone)
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] in ('pendingCancel', 'cancelled')


def test_latency(emu, http, token):
    emu.add_fault({'match': {'method': 'GET'}, 'latency_ms': 300})
    started = time.monotonic()
    assert http.get(emu.url + JOBS, headers=bearer(token)).status_code == 200
    assert time.monotonic() - started >= 0.29
    assert emu.requests()[0]['fault'] == 'latency 300ms'


def test_settings_and_constructor_latency(emu, http, app_cert, tmp_path):
    from emu_helpers import WRITE_ROLE, scenario
    from msgraph_emulator import Emulator

    data = scenario(app_cert[0])
    data['settings']['latency_ms'] = 200
    emu.reset(data)
    token = emu.mint_token(TENANT, APP, [WRITE_ROLE])
    started = time.monotonic()
    assert http.get(emu.url + JOBS, headers=bearer(token)).status_code == 200
    assert time.monotonic() - started >= 0.19
    with Emulator(ca_file=str(tmp_path / 'other-ca.pem'), latency_ms=150) as slow:
        started = time.monotonic()
        assert http.get(slow.url + JOBS, verify=slow.ca_file).status_code == 401
        assert time.monotonic() - started >= 0.14


def test_html_error_page(emu, http, token):
    page = '<html><body><h1>502 Bad Gateway</h1></body></html>'
    emu.add_fault({'match': {'path': CANCEL}, 'status': 502, 'body': page, 'content_type': 'text/html'})
    resp = post_cancel(emu, http, token)
    assert resp.status_code == 502 and resp.text == page and resp.headers['Content-Type'] == 'text/html'


def test_token_endpoint_fault_in_entra_shape(emu, http):
    emu.add_fault({'match': {'kind': 'token'}, 'status': 503, 'retry_after': '1'})
    data = {'grant_type': 'client_credentials', 'client_id': APP, 'client_secret': SECRET, 'scope': GRAPH_SCOPE}
    resp = http.post(emu.url + '/%s/oauth2/v2.0/token' % TENANT, data=data)
    assert resp.status_code == 503 and resp.headers['Retry-After'] == '1'
    body = resp.json()
    assert body['error'] == 'temporarily_unavailable' and body['error_description'].startswith('AADSTS')
    assert http.post(emu.url + '/%s/oauth2/v2.0/token' % TENANT, data=data).status_code == 200
    emu.add_fault({'match': {'kind': 'oidc'}, 'status': 500})
    assert http.get(emu.url + '/%s/v2.0/.well-known/openid-configuration' % TENANT).status_code == 500


def test_msi_fault(emu, http):
    emu.add_fault({'match': {'kind': 'msi'}, 'status': 500, 'error_message': 'IMDS is down'})
    resp = http.get(emu.url + '/msi/token', params={'api-version': '2019-08-01', 'resource': 'https://graph.microsoft.com'},
                    headers={'X-IDENTITY-HEADER': MI_HEADER})
    assert resp.status_code == 500 and resp.json() == {'statusCode': 500, 'message': 'IMDS is down'}


def test_expire_tokens_mid_run(emu, http, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'expire_tokens'})
    resp = post_cancel(emu, http, token)
    assert resp.status_code == 401 and resp.json()['error']['message'] == 'Lifetime validation failed, the token is expired.'
    assert http.get(emu.url + JOBS, headers=bearer(token)).status_code == 401


def test_invalid_rules_are_refused(emu):
    for rule in ({'status': 429, 'match': {'kind': 'nope'}}, {'match': {}}, {'status': 99}, {'action': 'hang'}, {'action': 'explode'},
                 {'status': 500, 'action': 'drop'}, {'status': 500, 'surprise': 1}, {'status': 500, 'match': {'path': '('}},
                 {'action': 'hang', 'seconds': 10000}, {'action': 'status_after_work'}):
        with pytest.raises(FaultError):
            emu.add_fault(rule)
    assert not emu.faults()


def test_scenario_faults_and_reset_clears_them(emu, http, app_cert):
    from emu_helpers import WRITE_ROLE, scenario

    data = scenario(app_cert[0])
    data['faults'] = [{'match': {'method': 'GET'}, 'status': 429, 'retry_after': 1, 'times': 0}]
    emu.reset(data)
    token = emu.mint_token(TENANT, APP, [WRITE_ROLE])
    assert http.get(emu.url + JOBS, headers=bearer(token)).status_code == 429
    emu.reset(scenario(app_cert[0]))
    token = emu.mint_token(TENANT, APP, [WRITE_ROLE])
    assert http.get(emu.url + JOBS, headers=bearer(token)).status_code == 200
    assert len(emu.requests()) == 1
