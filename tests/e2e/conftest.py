# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""End-to-end harness: the Graph emulator in this process, real ansible-playbook
(real msal, real TLS) in a subprocess, results captured by a callback plugin."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Optional

import pytest
import yaml

from msgraph_emulator import Emulator
from msgraph_emulator.tls import make_app_certificate

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)

TENANT = '00000000-0000-4000-8000-0000000000aa'
APP = '11111111-1111-4111-8111-111111111111'
SECRET = 'e2e-Client-Secret-7Qx9'
READER_APP = '22222222-2222-4222-8222-222222222222'
READER_SECRET = 'e2e-Reader-Secret-4Kp2'
NO_ROLE_APP = '66666666-6666-4666-8666-666666666666'
NO_ROLE_SECRET = 'e2e-NoRole-Secret-2Wm5'
CERT_APP = '33333333-3333-4333-8333-333333333333'
FEDERATED_APP = '44444444-4444-4444-8444-444444444444'
MI_CLIENT = '55555555-5555-4555-8555-555555555555'
MI_HEADER = 'e2e-identity-header'
FEDERATED_ISSUER = 'https://issuer.e2e.test'
FEDERATED_SUBJECT = 'system:serviceaccount:awx:runner'

JOB = 'add14989-2b21-4001-81bd-a18b0bac1dea'
TASK_ACTIVE = '6a88de8d-7027-44c1-8674-03f826aa1704'
TASK_ACTIVE_2 = '0c1f7a2e-5d4b-4f8e-9a3c-2b6d8e1f4a70'
TASK_COMPLETED = '9b2e4c61-3f0a-4d8b-a7e5-6c1d2f3a4b5c'
TASK_CANCELLED = 'e7d6c5b4-a392-4817-8f60-5e4d3c2b1a09'
MISSING = 'ffffffff-ffff-4fff-8fff-ffffffffffff'

# Passed to plays as extra vars, never written into playbook text: Ansible quotes
# playbook source around a failed task, as it would a user's literal secret.
SECRET_OPTIONS = ('client_secret', 'client_certificate_password', 'access_token')

WRITE_ROLE = 'CrossTenantContentMigration.ReadWrite.All'
READ_ROLE = 'CrossTenantContentMigration.Read.All'


def base_scenario(cert_pem: Optional[str] = None) -> dict[str, Any]:
    apps = [
        {'client_id': APP, 'secret': SECRET, 'roles': [WRITE_ROLE]},
        {'client_id': READER_APP, 'secret': READER_SECRET, 'roles': [READ_ROLE]},
        {'client_id': NO_ROLE_APP, 'secret': NO_ROLE_SECRET, 'roles': []},
        {'client_id': FEDERATED_APP, 'roles': [WRITE_ROLE],
         'federated_credentials': [{'issuer': FEDERATED_ISSUER, 'subject': FEDERATED_SUBJECT}]},
    ]
    if cert_pem:
        apps.append({'client_id': CERT_APP, 'certificate_pem': cert_pem, 'roles': [WRITE_ROLE]})
    return {
        'settings': {'cancel_delay_seconds': 60},
        'tenants': [{'id': TENANT, 'apps': apps}],
        'managed_identity': {
            'identity_header': MI_HEADER,
            'identities': [{'client_id': 'system', 'tenant_id': TENANT, 'roles': [WRITE_ROLE]},
                           {'client_id': MI_CLIENT, 'tenant_id': TENANT, 'roles': [WRITE_ROLE]}],
        },
        'jobs': [{
            'id': JOB, 'displayName': 'Wave 1', 'jobType': 'migrate', 'status': 'inProgress',
            'completeAfterDateTime': '2099-01-01T00:00:00Z',
            'tasks': [
                {'id': TASK_ACTIVE, 'workloads': {'Exchange': 'inProgress', 'ODSP': 'notStarted', 'Teams': 'notStarted'}},
                {'id': TASK_ACTIVE_2, 'workloads': {'Exchange': 'syncing', 'ODSP': 'notStarted'}},
                {'id': TASK_COMPLETED, 'workloads': {'Exchange': 'completed', 'ODSP': 'inProgress'}},
                {'id': TASK_CANCELLED, 'workloads': {'Exchange': 'cancelled', 'ODSP': 'cancelled'}},
            ],
        }],
    }


@dataclass
class PlayRun:
    rc: int
    stdout: str
    stderr: str
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def result(self, index: int = 0) -> dict[str, Any]:
        """The result of the index-th recorded task (module tasks only, in order)."""
        return self.results[index]['result']

    def status(self, index: int = 0) -> str:
        return self.results[index]['status']


class Harness:
    def __init__(self, emulator: Emulator, tmp_path, cert_pem: str) -> None:
        self.emu = emulator
        self.tmp_path = tmp_path
        self.cert_pem = cert_pem
        self.runs = 0

    def connection(self, **overrides: Any) -> dict[str, Any]:
        """Module options that point at the emulator with the writer app's secret."""
        options = {
            'graph_endpoint': self.emu.url, 'authority_host': self.emu.url, 'ca_path': self.emu.ca_file,
            'tenant_id': TENANT, 'client_id': APP, 'client_secret': SECRET,
        }
        options.update(overrides)
        return {k: v for k, v in options.items() if v is not None}

    def cancel_task(self, task_id: str = TASK_ACTIVE, job_id: str = JOB, **options: Any) -> dict[str, Any]:
        args = self.connection()
        args.update(job_id=job_id, task_id=task_id)
        args.update(options)
        return {'name': 'Cancel', 'msgraph.migrations.crosstenant_migration_task_cancel': {k: v for k, v in args.items() if v is not None}}

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('AZURE_', 'IDENTITY_', 'MSI_', 'IMDS_', 'ANSIBLE_')) and k != 'PYTHONPATH'}
        env.update({
            'ANSIBLE_HOME': str(self.tmp_path / 'ansible-home'),
            # The token cache lives under XDG_CACHE_HOME: one per test, never the user's.
            'XDG_CACHE_HOME': str(self.tmp_path / 'cache'),
            'ANSIBLE_COLLECTIONS_PATH': os.environ.get('E2E_COLLECTIONS_PATH', os.path.join(REPO, 'build', 'collections')),
            'ANSIBLE_CALLBACK_PLUGINS': os.path.join(HERE, 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'result_recorder',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_LOCALHOST_WARNING': 'False',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'False',
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ANSIBLE_RETRY_FILES_ENABLED': 'False',
        })
        return env

    def play(self, tasks: list[dict[str, Any]], *, args: tuple = (), env: Optional[dict[str, str]] = None,
             module_defaults: Optional[dict[str, Any]] = None, collections_path: Optional[str] = None,
             playbook: Optional[list] = None, timeout: int = 180) -> PlayRun:
        """Run a one-play playbook on localhost with ``tasks``; return its output and results."""
        self.runs += 1
        run_dir = self.tmp_path / ('run%d' % self.runs)
        run_dir.mkdir()
        if playbook is None:
            play: dict[str, Any] = {'name': 'E2E', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}
            if module_defaults:
                play['module_defaults'] = {'group/msgraph.migrations.graph': module_defaults}
            playbook = [play]
        secret_vars = _move_secrets_to_vars(playbook)
        (run_dir / 'secrets.yml').write_text(yaml.safe_dump(secret_vars))
        (run_dir / 'play.yml').write_text(yaml.safe_dump(playbook, sort_keys=False))
        args = ('-e', '@' + str(run_dir / 'secrets.yml'), *args)
        results_file = run_dir / 'results.jsonl'
        full_env = self.base_env()
        full_env['E2E_RESULTS_FILE'] = str(results_file)
        if collections_path:
            full_env['ANSIBLE_COLLECTIONS_PATH'] = collections_path
        full_env.update(env or {})
        proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), str(run_dir / 'play.yml'), *args],
                              cwd=str(run_dir), env=full_env, capture_output=True, text=True, timeout=timeout, check=False)
        results = []
        if results_file.exists():
            results = [json.loads(line) for line in results_file.read_text().splitlines() if line.strip()]
        return PlayRun(proc.returncode, proc.stdout, proc.stderr, results)

    def requests(self, kind: Optional[str] = None, method: Optional[str] = None) -> list[dict[str, Any]]:
        entries = self.emu.requests()
        return [e for e in entries if (kind is None or e.get('kind') == kind) and (method is None or e.get('method') == method)]

    def issued_tokens(self) -> list[str]:
        """Every access token the emulator has issued so far (to prove none is printed)."""
        return self.emu.issued_tokens()

    def cancel_posts(self) -> list[dict[str, Any]]:
        return [e for e in self.requests(kind='graph', method='POST') if e['path'].endswith('/cancel')]


def _move_secrets_to_vars(node: Any, found: Optional[dict[str, str]] = None) -> dict[str, str]:
    """Replace literal secret option values in ``node`` with variables; return the variables."""
    found = {} if found is None else found
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SECRET_OPTIONS and isinstance(value, str) and '{{' not in value:
                name = 'e2e_secret_%d' % len(found)
                found[name] = value
                node[key] = '{{ %s }}' % name
            else:
                _move_secrets_to_vars(value, found)
    elif isinstance(node, list):
        for item in node:
            _move_secrets_to_vars(item, found)
    return found


@pytest.fixture(scope='session')
def app_certificate(tmp_path_factory):
    """A self-signed certificate for CERT_APP: (cert PEM, PEM key+cert file, PKCS#12 file, password)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    directory = tmp_path_factory.mktemp('cert')
    key, cert = make_app_certificate('msgraph-migrations-e2e')
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    password = 'e2e-Cert-Password-3Jv8'
    pem_file = directory / 'app.pem'
    pem_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(password.encode())) + cert_pem.encode())
    pfx_file = directory / 'app.pfx'
    pfx_file.write_bytes(pkcs12.serialize_key_and_certificates(b'app', key, cert, None,
                                                               serialization.BestAvailableEncryption(password.encode())))
    return cert_pem, str(pem_file), str(pfx_file), password


@pytest.fixture(scope='session')
def emulator_server(tmp_path_factory, app_certificate):
    directory = tmp_path_factory.mktemp('emulator')
    server = Emulator(scenario=base_scenario(app_certificate[0]), ca_file=str(directory / 'ca.pem'),
                      request_log=str(directory / 'requests.jsonl'))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def harness(emulator_server, app_certificate, tmp_path):
    """A fresh emulator state (base scenario, no faults, empty request log) for each test."""
    emulator_server.reset(copy.deepcopy(base_scenario(app_certificate[0])))
    return Harness(emulator_server, tmp_path, app_certificate[0])
