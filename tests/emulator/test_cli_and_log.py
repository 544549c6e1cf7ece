# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The request log (fields, no secrets), the admin API, scenario files and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import jwt
import msal
import pytest
import yaml

from emu_helpers import (APP, CERT_APP, FED_APP, FED_ISSUER, FED_SUBJECT, GRAPH_SCOPE, JOB, JOBS, MI_HEADER, READER, READER_SECRET, REPO, SECRET, TASK,
                         TASK_2, TENANT, WRITE_ROLE, CASession, bearer, task_url)
from msgraph_emulator import Emulator, ScenarioError


def _msal(emu, client_id, credential):
    return msal.ConfidentialClientApplication(client_id, client_credential=credential, authority='%s/%s' % (emu.url, TENANT),
                                              http_client=CASession(emu.ca_file), instance_discovery=False)


def test_request_log_fields_and_no_secrets(emu, http, app_cert, monkeypatch, tmp_path):
    cert_pem, key_pem, _sha1 = app_cert
    now = int(time.time())
    federated = jwt.encode({'iss': FED_ISSUER, 'sub': FED_SUBJECT, 'aud': 'api://AzureADTokenExchange', 'exp': now + 600},
                           'k' * 32, algorithm='HS256')
    tokens = [
        _msal(emu, APP, SECRET).acquire_token_for_client([GRAPH_SCOPE])['access_token'],
        _msal(emu, CERT_APP, {'private_key': key_pem, 'public_certificate': cert_pem}).acquire_token_for_client([GRAPH_SCOPE])['access_token'],
        _msal(emu, FED_APP, {'client_assertion': lambda: federated}).acquire_token_for_client([GRAPH_SCOPE])['access_token'],
    ]
    assert 'error' in _msal(emu, READER, 'wrong-' + READER_SECRET).acquire_token_for_client([GRAPH_SCOPE])
    monkeypatch.setenv('IDENTITY_ENDPOINT', emu.url + '/msi/token')
    monkeypatch.setenv('IDENTITY_HEADER', MI_HEADER)
    mi = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=CASession(emu.ca_file))
    tokens.append(mi.acquire_token_for_client(resource='https://graph.microsoft.com')['access_token'])
    # a client that wrongly puts a secret in the query string
    http.post(emu.url + '/%s/oauth2/v2.0/token?client_secret=%s' % (TENANT, SECRET), data={'grant_type': 'client_credentials'})
    http.get(emu.url + JOBS, headers=dict(bearer(tokens[0]), **{'client-request-id': '2b9d8c1e-0000-4000-8000-000000000001'}))
    http.post(emu.url + task_url() + '/cancel', headers=bearer(tokens[1]))
    http.post(emu.url + '/v1.0/$batch', headers=bearer(tokens[2]),
              json={'requests': [{'id': '1', 'method': 'GET', 'url': '/solutions/migrations/crossTenantMigrationJobs/%s/users/%s' % (JOB, TASK_2)}]})
    http.get(emu.url + JOBS, headers={'Authorization': tokens[3]})  # no scheme: the token must not be logged as one

    with open(emu.request_log_path, encoding='utf-8') as handle:
        text = handle.read()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines == emu.requests()
    for secret in [SECRET, READER_SECRET, 'wrong-' + READER_SECRET, MI_HEADER, federated] + tokens + emu.issued_tokens():
        assert secret not in text
    assert 'eyJ' not in text  # no JWT (client assertion) at all
    required = {'ts', 'kind', 'method', 'path', 'query', 'status', 'error_code', 'fault', 'client_request_id', 'user_agent', 'authorization',
                'token_client_id', 'token_roles', 'api_version', 'body_present'}
    for line in lines:
        assert required <= set(line), line
    token_lines = [line for line in lines if line['kind'] == 'token']
    assert [line['credential'] for line in token_lines] == ['secret', 'certificate', 'federated', 'secret', 'none']
    assert token_lines[3]['status'] == 401 and token_lines[3]['error_code'] == 'invalid_client'
    assert token_lines[4]['query'] == {'client_secret': '***'}
    assert all(line['grant_type'] == 'client_credentials' for line in token_lines)
    graph = [line for line in lines if line['kind'] == 'graph']
    assert graph[0]['client_request_id'] == '2b9d8c1e-0000-4000-8000-000000000001' and graph[0]['token_client_id'] == APP
    assert graph[0]['token_roles'] == [WRITE_ROLE] and graph[0]['api_version'] == 'v1.0' and graph[0]['authorization'] == 'Bearer'
    assert graph[1]['token_client_id'] == CERT_APP and graph[1]['status'] == 202 and graph[1]['body_present'] is False
    assert graph[2]['batch_request_id'] == '1' and graph[2]['token_client_id'] == FED_APP
    assert graph[3]['authorization'] == 'other' and graph[3]['status'] == 401
    assert [line['kind'] for line in lines].count('batch') == 1
    assert [line for line in lines if line['kind'] == 'msi'][0]['status'] == 200
    del tmp_path


def test_admin_api(emu, http):
    admin = emu.url + '/_emulator'
    minted = http.post(admin + '/tokens', json={'tenant_id': TENANT, 'client_id': APP, 'roles': [WRITE_ROLE], 'expires_in': 600}).json()
    token = minted['access_token']
    assert http.post(emu.url + task_url() + '/cancel', headers=bearer(token)).status_code == 202
    state = http.get(admin + '/state').json()
    job = [j for j in state['jobs'] if j['id'] == JOB][0]
    assert [t for t in job['tasks'] if t['id'] == TASK][0]['currentStatus'][0]['status'] == 'pendingCancel'
    assert http.post(admin + '/faults', json=[{'match': {'method': 'GET'}, 'status': 503}]).json()['added'] == ['status 503']
    assert http.get(admin + '/faults').json()[0]['remaining'] == 1
    assert http.get(emu.url + JOBS, headers=bearer(token)).status_code == 503
    assert http.post(admin + '/faults', json={'status': 999}).status_code == 400
    log = http.get(admin + '/requests').json()
    assert [entry['status'] for entry in log] == [202, 503]  # admin calls are not logged
    assert http.post(admin + '/expire-tokens').json()['expired'] >= 1
    assert http.get(emu.url + JOBS, headers=bearer(token)).status_code == 401
    assert http.post(admin + '/reset', data=b'').status_code == 200  # empty body: the built-in scenario
    assert http.get(admin + '/requests').json() == []
    assert [j['id'] for j in http.get(admin + '/state').json()['jobs']] == ['add14989-2b21-4001-81bd-a18b0bac1dea']
    assert http.post(admin + '/reset', json={'jobs': [{'id': 'nope'}]}).status_code == 400
    assert http.get(admin + '/nothing').status_code == 404
    assert http.get(admin + '/reset').status_code == 405


def test_restart_keeps_logging(tmp_path):
    server = Emulator(request_log=str(tmp_path / 'log.jsonl'))
    for _round in range(2):
        server.start()
        try:
            http = CASession(server.ca_file)
            assert http.get(server.url + JOBS).status_code == 401
        finally:
            server.stop()
    assert len((tmp_path / 'log.jsonl').read_text().splitlines()) == 2 and len(server.requests()) == 2
    assert not os.path.exists(server.ca_file)  # a temporary CA file is removed at stop


def test_scenario_errors(tmp_path):
    for bad in ({'surprise': 1}, {'tenants': [{'id': 'x'}]}, {'jobs': [{'id': JOB, 'tasks': [{'id': TASK, 'workloads': 3}]}], 'tenants': [{'id': TENANT}]},
                {'settings': {'batch_order': 'random'}}, {'faults': [{'status': 1000}]}, {'jobs': [{'id': JOB}]}):
        with pytest.raises(ValueError):
            Emulator(scenario=bad, ca_file=str(tmp_path / 'ca.pem'))
    with pytest.raises(ScenarioError):
        Emulator(scenario=str(tmp_path / 'missing.yml'), ca_file=str(tmp_path / 'ca.pem'))
    with pytest.raises(ValueError):
        Emulator(host='0.0.0.0', ca_file=str(tmp_path / 'ca.pem'))


def _wait_for(path, proc, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def test_cli(tmp_path, app_cert):
    cert_pem, key_pem, _sha1 = app_cert
    (tmp_path / 'app.pem').write_text(cert_pem)
    scenario = {
        'settings': {'cancel_delay_seconds': 5},
        'tenants': [{'id': TENANT, 'apps': [{'client_id': APP, 'secret': SECRET, 'roles': [WRITE_ROLE]},
                                            {'client_id': CERT_APP, 'certificate_file': 'app.pem', 'roles': [WRITE_ROLE]}]}],
        'jobs': [{'id': JOB, 'completeAfterDateTime': '2099-01-01T00:00:00Z', 'tasks': [TASK]}],
    }
    (tmp_path / 'scenario.yml').write_text(yaml.safe_dump(scenario))
    ready = tmp_path / 'ready.json'
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, 'emulator'))
    cmd = [sys.executable, '-m', 'msgraph_emulator', '--scenario', str(tmp_path / 'scenario.yml'), '--ca-file', str(tmp_path / 'ca.pem'),
           '--request-log', str(tmp_path / 'log.jsonl'), '--ready-file', str(ready), '--max-seconds', '60']
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert _wait_for(str(ready), proc), proc.stderr.read() if proc.poll() is not None else 'no ready file'
            info = json.loads(ready.read_text())
            assert info['pid'] == proc.pid and info['url'] == 'https://127.0.0.1:%d' % info['port'] and info['ca_file'] == str(tmp_path / 'ca.pem')
            line = proc.stdout.readline().strip()
            assert line == 'msgraph-emulator listening on %s (CA: %s)' % (info['url'], info['ca_file'])
            http = CASession(info['ca_file'])
            app = msal.ConfidentialClientApplication(CERT_APP, client_credential={'private_key': key_pem, 'public_certificate': cert_pem},
                                                     authority='%s/%s' % (info['url'], TENANT), http_client=http, instance_discovery=False)
            token = app.acquire_token_for_client([GRAPH_SCOPE])['access_token']
            assert http.post(info['url'] + task_url() + '/cancel', headers=bearer(token)).status_code == 202
            assert http.get(info['url'] + '/_emulator/requests').json()[-1]['status'] == 202
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
    assert proc.returncode == 0, err
    assert token not in out + err and SECRET not in out + err and out == ''
    log = (tmp_path / 'log.jsonl').read_text()
    assert token not in log and len(log.splitlines()) == 3


def test_cli_refuses_a_non_loopback_host(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, 'emulator'))
    proc = subprocess.run([sys.executable, '-m', 'msgraph_emulator', '--host', '0.0.0.0', '--ca-file', str(tmp_path / 'ca.pem')],
                          env=env, capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2 and 'loopback' in proc.stderr
    assert not (tmp_path / 'ca.pem').exists()


def test_cli_runs_a_command_against_itself_and_exits_with_its_status(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, 'emulator'))
    probe = ('import os, requests, sys; '
             "r = requests.get(os.environ['MSGRAPH_EMULATOR_URL'] + '/v1.0/solutions/migrations/crossTenantMigrationJobs', "
             "verify=os.environ['MSGRAPH_EMULATOR_CA_FILE']); "
             "print(r.status_code, os.environ['MSGRAPH_EMULATOR_REQUEST_LOG']); sys.exit(7)")
    proc = subprocess.run([sys.executable, '-m', 'msgraph_emulator', '--ca-file', str(tmp_path / 'ca.pem'), '--request-log',
                           str(tmp_path / 'log.jsonl'), '--', sys.executable, '-c', probe],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 7, proc.stderr
    assert '401 %s' % (tmp_path / 'log.jsonl') in proc.stdout
    assert json.loads((tmp_path / 'log.jsonl').read_text().splitlines()[0])['status'] == 401


def test_cli_stops_a_command_that_outlives_max_seconds(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, 'emulator'))
    proc = subprocess.run([sys.executable, '-m', 'msgraph_emulator', '--ca-file', str(tmp_path / 'ca.pem'), '--max-seconds', '1',
                           '--', sys.executable, '-c', 'import time; time.sleep(30)'],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 124 and 'stopped' in proc.stderr
