# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Replies of a hostile server: trickled, oversized, redirected, echoing the request, or a success with an HTML body."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from emu_helpers import (APP, GRAPH_SCOPE, JOB, JOBS, MI_HEADER, SECRET, TASK, TENANT, WRITE_ROLE, CASession, bearer, raw_request,
                         scenario, split_reply, task_url, wait_for_entry)
from msgraph_emulator import Emulator, FaultError

CANCEL = '/cancel$'


def cancel_path(task=TASK):
    return task_url(task=task) + '/cancel'


def untouched(emu):
    """The task was not cancelled: these replies never do the work."""
    return emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'inProgress'


def last_cancel(emu):
    return wait_for_entry(emu, lambda e: e['path'].endswith('/cancel'))


# ----- trickle -----------------------------------------------------------------------------------

def test_trickle_sends_the_head_at_once_then_a_byte_a_second_until_the_client_goes(emu, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'trickle', 'seconds': 30})
    started = time.monotonic()
    raw = raw_request(emu, 'POST', cancel_path(), bearer(token), read_seconds=1.3)
    status, headers, body = split_reply(raw)
    assert status == 200 and headers['content-length'] == '30'  # 1 byte/s for 30 s: the whole (padded) body
    assert headers['content-type'].startswith('application/json')
    assert body == b'{' or body == b'{"'  # one byte at once, the next a second later
    entry = last_cancel(emu)
    assert entry['client_closed'] is True and 1 <= entry['bytes_sent'] <= 3
    assert entry['status'] == 200 and entry['fault'] == 'trickle 1B/s for 30s status 200'
    assert time.monotonic() - started < 3.0 and entry['duration_ms'] < 3000
    assert untouched(emu)  # a trickle does not do the work


def test_trickle_that_runs_its_course_is_a_complete_reply(emu, http, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'trickle', 'seconds': 2, 'bytes_per_second': 40})
    started = time.monotonic()
    resp = http.post(emu.url + cancel_path(), headers=bearer(token))
    assert 0.9 <= time.monotonic() - started < 2.5
    assert resp.status_code == 200 and len(resp.content) == 80 and resp.json() == {'value': []}
    entry = last_cancel(emu)
    assert entry['bytes_sent'] == 80 and entry['client_closed'] is False and entry['duration_ms'] >= 900
    assert untouched(emu)


def test_trickle_with_an_error_status_and_its_own_body(emu, http, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'trickle', 'status': 503, 'retry_after': '7', 'bytes_per_second': 1000, 'seconds': 1})
    resp = http.post(emu.url + cancel_path(), headers=bearer(token))
    assert resp.status_code == 503 and resp.headers['Retry-After'] == '7'
    assert resp.json()['error']['code'] == 'serviceNotAvailable' and len(resp.content) == 1000
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'trickle', 'body': '<html>' + 'x' * 40 + '</html>', 'bytes_per_second': 10, 'seconds': 1})
    with pytest.raises(requests.exceptions.RequestException):  # cut off after `seconds`: an incomplete body
        http.post(emu.url + cancel_path(), headers=bearer(token)).content  # pylint: disable=expression-not-assigned
    entry = wait_for_entry(emu, lambda e: e.get('bytes_sent') == 10)
    assert entry['client_closed'] is False and entry['status'] == 200
    assert untouched(emu)


def test_stop_ends_a_trickle_at_once(tmp_path):
    emu = Emulator(scenario=scenario(), ca_file=str(tmp_path / 'ca.pem'))
    emu.start()
    token = emu.mint_token(TENANT, APP, [WRITE_ROLE])
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'trickle', 'seconds': 60})
    client = threading.Thread(target=raw_request, args=(emu, 'POST', cancel_path(), bearer(token)), kwargs={'read_seconds': 5})
    client.start()
    waited = time.monotonic()
    while not emu.faults()[0]['applied'] and time.monotonic() - waited < 3:
        time.sleep(0.02)
    time.sleep(0.2)  # the head and the first byte are out
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 2.0
    client.join(timeout=6)
    entry = emu.requests()[-1]
    assert entry['fault'].startswith('trickle') and entry['client_closed'] is False and entry['bytes_sent'] == 1


def test_streaming_faults_skip_batch_sub_requests(emu, http, token):
    emu.add_fault({'match': {'in_batch': True}, 'action': 'trickle', 'times': 0})
    body = {'requests': [{'id': '1', 'method': 'GET', 'url': '/solutions/migrations/crossTenantMigrationJobs/%s' % JOB}]}
    resp = http.post(emu.url + '/v1.0/$batch', json=body, headers=bearer(token))
    assert resp.status_code == 200 and resp.json()['responses'][0]['status'] == 200
    assert emu.faults()[0]['applied'] == 0


# ----- oversized ---------------------------------------------------------------------------------

def test_oversized_body_stops_when_the_client_does(emu, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'oversized', 'body_bytes': 8 * 1024 ** 3})
    raw = raw_request(emu, 'POST', cancel_path(), bearer(token), read_seconds=2, max_bytes=256 * 1024)
    status, headers, body = split_reply(raw)
    assert status == 200 and headers['content-length'] == str(8 * 1024 ** 3) and body.startswith(b'{"value":[')
    entry = last_cancel(emu)
    assert entry['client_closed'] is True and 0 < entry['bytes_sent'] < 64 * 1024 * 1024
    assert entry['fault'] == 'oversized 8589934592 bytes status 200'
    assert untouched(emu)


def test_oversized_body_is_valid_json_chunked_or_not(emu, http, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'oversized', 'body_bytes': 300000, 'chunked': True})
    resp = http.post(emu.url + cancel_path(), headers=bearer(token))
    assert resp.headers['Transfer-Encoding'] == 'chunked' and 'Content-Length' not in resp.headers
    assert len(resp.content) == 300000 and resp.json() == {'value': []}
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'oversized', 'body_bytes': 5, 'status': 202})
    resp = http.post(emu.url + cancel_path(), headers=bearer(token))
    assert resp.status_code == 202 and resp.content == b'{"val' and resp.headers['Content-Length'] == '5'
    wait_for_entry(emu, lambda e: e.get('bytes_sent') == 5)  # a stream's line is written just after its last byte
    sizes = [(e['bytes_sent'], e['client_closed']) for e in emu.requests()]
    assert sizes == [(300000, False), (5, False)]
    assert untouched(emu)


# ----- redirects ---------------------------------------------------------------------------------

@pytest.mark.parametrize('status', [301, 302, 307, 308])
def test_redirect_with_location(emu, http, token, status):
    target = 'https://login.example.invalid/redirected?x=1'
    emu.add_fault({'match': {'path': CANCEL}, 'status': status, 'location': target})
    resp = http.post(emu.url + cancel_path(), headers=bearer(token), allow_redirects=False)
    assert resp.status_code == status and resp.headers['Location'] == target
    assert resp.headers['Content-Type'].startswith('text/html') and len(resp.content) < 200 and b'"error"' not in resp.content
    entry = last_cancel(emu)
    assert entry['status'] == status and entry['fault'] == 'status %d Location %s' % (status, target) and entry['error_code'] is None
    assert untouched(emu)


def test_redirect_through_headers_has_no_graph_error_body(emu, http, token):
    emu.add_fault({'match': {'kind': 'token'}, 'status': 302, 'headers': {'Location': 'https://elsewhere.example.invalid/token'}})
    resp = http.post(emu.url + '/%s/oauth2/v2.0/token' % TENANT, data={'client_id': APP, 'client_secret': SECRET}, allow_redirects=False)
    assert resp.status_code == 302 and resp.headers['Location'] == 'https://elsewhere.example.invalid/token'
    assert b'error' not in resp.content
    del token


# ----- echo --------------------------------------------------------------------------------------

def test_echo_quotes_the_graph_request_back(emu, http, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'echo'})
    resp = http.post(emu.url + cancel_path() + '?reason=test', headers=dict(bearer(token), **{'X-Custom': 'yes'}), data=b'{"note": "hi"}')
    assert resp.status_code == 400 and resp.headers['Content-Type'].startswith('application/json')
    error = resp.json()['error']
    assert error['code'] == 'BadRequest' and set(error['innerError']) == {'date', 'request-id', 'client-request-id'}
    message = error['message']
    assert 'POST %s?reason=test HTTP/1.1\n' % cancel_path() in message
    assert 'Authorization: Bearer %s\n' % token in message and 'X-Custom: yes\n' in message
    assert message.endswith('\n\n{"note": "hi"}')
    assert untouched(emu)
    with open(emu.request_log_path, encoding='utf-8') as handle:
        log = handle.read()
    assert token not in log and '"fault":"echo status 400"' in log


def test_echo_of_a_token_request_in_entra_shape(emu, http):
    emu.add_fault({'match': {'kind': 'token'}, 'action': 'echo', 'status': 401, 'error_code': 'invalid_client'})
    form = {'grant_type': 'client_credentials', 'client_id': APP, 'client_secret': SECRET, 'scope': GRAPH_SCOPE}
    resp = http.post(emu.url + '/%s/oauth2/v2.0/token' % TENANT, data=form)
    body = resp.json()
    assert resp.status_code == 401 and body['error'] == 'invalid_client' and body['error_description'].startswith('AADSTS')
    assert 'client_secret=%s' % SECRET in body['error_description']
    assert 'POST /%s/oauth2/v2.0/token HTTP/1.1' % TENANT in body['error_description']
    assert emu.issued_tokens() == []
    assertion = 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl'
    emu.add_fault({'match': {'kind': 'token'}, 'action': 'echo'})
    form = dict(form, client_assertion=assertion, client_assertion_type='urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    del form['client_secret']
    resp = http.post(emu.url + '/%s/oauth2/v2.0/token' % TENANT, data=form)
    assert resp.status_code == 400 and 'client_assertion=%s' % assertion in resp.json()['error_description']
    with open(emu.request_log_path, encoding='utf-8') as handle:
        log = handle.read()
    assert SECRET not in log and assertion not in log and 'eyJ' not in log
    assert [json.loads(line)['credential'] for line in log.splitlines()] == ['secret', 'federated']


def test_echo_of_a_managed_identity_request(emu, http):
    emu.add_fault({'match': {'kind': 'msi'}, 'action': 'echo', 'status': 500})
    resp = http.get(emu.url + '/msi/token', params={'api-version': '2019-08-01', 'resource': 'https://graph.microsoft.com'},
                    headers={'X-IDENTITY-HEADER': MI_HEADER})
    body = resp.json()
    assert resp.status_code == 500 and set(body) == {'statusCode', 'message'} and body['statusCode'] == 500
    assert 'X-IDENTITY-HEADER: %s' % MI_HEADER in body['message'] and 'GET /msi/token?api-version=2019-08-01' in body['message']
    with open(emu.request_log_path, encoding='utf-8') as handle:
        assert MI_HEADER not in handle.read()


def test_echo_as_an_html_page(emu, http, token):
    emu.add_fault({'match': {'kind': 'token'}, 'action': 'echo', 'status': 502, 'content_type': 'text/html'})
    resp = http.post(emu.url + '/%s/oauth2/v2.0/token' % TENANT, data={'client_id': APP, 'client_secret': SECRET, 'grant_type': 'client_credentials'})
    assert resp.status_code == 502 and resp.headers['Content-Type'] == 'text/html'
    assert resp.text.startswith('<html>') and 'client_secret=%s' % SECRET in resp.text and 'POST /%s/oauth2/v2.0/token' % TENANT in resp.text
    emu.add_fault({'match': {'in_batch': True}, 'action': 'echo'})
    body = {'requests': [{'id': '1', 'method': 'POST', 'url': '/solutions/migrations/crossTenantMigrationJobs/%s/users/%s/cancel' % (JOB, TASK)}]}
    answer = http.post(emu.url + '/v1.0/$batch', json=body, headers=bearer(token)).json()['responses'][0]
    assert answer['status'] == 400 and 'authorization: Bearer %s' % token in answer['body']['error']['message']
    assert untouched(emu)


# ----- 2xx and 409 with bodies a client must not trust -------------------------------------------

@pytest.mark.parametrize('status, body, content_type', [
    (200, '<html><body>Sign in to continue</body></html>', 'text/html'),
    (202, '<html><body>Accepted?</body></html>', 'text/html; charset=utf-8'),
    (202, '{"status": "Accepted", "message": ', 'application/json'),
    (409, '<html><body><h1>409 Conflict</h1></body></html>', 'text/html'),
])
def test_success_or_conflict_with_an_html_or_malformed_body(emu, http, token, status, body, content_type):
    emu.add_fault({'match': {'path': CANCEL}, 'status': status, 'body': body, 'content_type': content_type})
    resp = http.post(emu.url + cancel_path(), headers=bearer(token))
    assert resp.status_code == status and resp.text == body and resp.headers['Content-Type'] == content_type
    if content_type == 'application/json':
        with pytest.raises(ValueError):
            resp.json()
    assert untouched(emu) and last_cancel(emu)['status'] == status


def test_new_rule_keys_are_checked(emu):
    for rule in ({'action': 'trickle', 'seconds': 301}, {'action': 'trickle', 'bytes_per_second': 0}, {'status': 500, 'bytes_per_second': 5},
                 {'action': 'oversized'}, {'action': 'oversized', 'body_bytes': 8 * 1024 ** 3 + 1}, {'action': 'oversized', 'body_bytes': 9, 'chunked': 'yes'},
                 {'status': 200, 'chunked': True}, {'action': 'echo', 'body': 'x'}, {'action': 'oversized', 'body_bytes': 9, 'body': 'x'},
                 {'status': 200, 'location': 'https://x.invalid'}, {'location': 'https://x.invalid'},
                 {'status': 302, 'location': 'https://x.invalid/\r\nSet-Cookie: a=b'}, {'status': 302, 'location': ''},
                 {'status': 302, 'location': 'https://x.invalid', 'action': 'echo'}, {'status': 500, 'seconds': 3}):
        with pytest.raises(FaultError):
            emu.add_fault(rule)
    assert not emu.faults()
    assert emu.add_fault([{'action': 'trickle'}, {'action': 'echo'}, {'action': 'oversized', 'body_bytes': 10, 'chunked': True}]) == [
        'trickle 1B/s for 60s status 200', 'echo status 400', 'oversized 10 bytes chunked status 200']


def test_hostile_replies_leave_the_connection_pool_usable(emu, token):
    emu.add_fault({'match': {'path': CANCEL}, 'action': 'oversized', 'body_bytes': 10 * 1024 * 1024})
    with CASession(emu.ca_file) as session:
        resp = session.post(emu.url + cancel_path(), headers=bearer(token), stream=True)
        next(resp.iter_content(1024))
        resp.close()
        assert session.get(emu.url + JOBS, headers=bearer(token)).status_code == 200
