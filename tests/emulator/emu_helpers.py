# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared constants and helpers of the Graph emulator's tests (a uniquely named module, unlike conftest)."""

from __future__ import annotations

import os
import socket
import ssl
import sys
import time
from typing import Any, Callable, Optional

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'emulator'))

TENANT = '00000000-0000-4000-8000-0000000000aa'
TENANT_B = '00000000-0000-4000-8000-0000000000cc'
APP = '11111111-1111-4111-8111-111111111111'
SECRET = 'test-Client-Secret-9Zq1'
READER = '22222222-2222-4222-8222-222222222222'
READER_SECRET = 'test-Reader-Secret-5Lm3'
NOROLE = '23232323-2323-4323-8323-232323232323'
NOROLE_SECRET = 'test-NoRole-Secret-2Hd8'
CERT_APP = '33333333-3333-4333-8333-333333333333'
FED_APP = '44444444-4444-4444-8444-444444444444'
APP_B = '66666666-6666-4666-8666-666666666666'
APP_B_SECRET = 'test-TenantB-Secret-1Wc4'
MI_CLIENT = '55555555-5555-4555-8555-555555555555'
MI_HEADER = 'test-identity-header-value'
FED_ISSUER = 'https://issuer.example'
FED_SUBJECT = 'system:serviceaccount:ns:sa'

JOB = 'add14989-2b21-4001-81bd-a18b0bac1dea'
TASK = '6a88de8d-7027-44c1-8674-03f826aa1704'
TASK_2 = '0c1f7a2e-5d4b-4f8e-9a3c-2b6d8e1f4a70'
TASK_DONE = '9b2e4c61-3f0a-4d8b-a7e5-6c1d2f3a4b5c'
TASK_CANCELLED = 'e7d6c5b4-a392-4817-8f60-5e4d3c2b1a09'
TASK_FINALIZING = 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b'
JOB_CUTOVER = 'b0b0b0b0-0000-4000-8000-000000000001'
JOB_PAST = 'b0b0b0b0-0000-4000-8000-000000000002'
JOB_B = 'b0b0b0b0-0000-4000-8000-000000000003'
JOB_EXTRA = 'b0b0b0b0-0000-4000-8000-000000000004'
OTHER_TASK = 'c0c0c0c0-0000-4000-8000-000000000001'
MISSING = 'ffffffff-ffff-4fff-8fff-ffffffffffff'

READ_ROLE = 'CrossTenantContentMigration.Read.All'
WRITE_ROLE = 'CrossTenantContentMigration.ReadWrite.All'
GRAPH_SCOPE = 'https://graph.microsoft.com/.default'
JOBS = '/v1.0/solutions/migrations/crossTenantMigrationJobs'


class CASession(requests.Session):
    """A requests session that passes verify=<the emulator CA> on every call.

    REQUESTS_CA_BUNDLE (set on these machines) overrides Session.verify, so only a per-request verify wins.
    Also usable as msal's http_client."""

    def __init__(self, ca_file: str):
        super().__init__()
        self.ca_file = ca_file

    def request(self, method, url, *args, **kwargs):  # pylint: disable=arguments-differ
        if kwargs.get('verify') in (None, True):
            kwargs['verify'] = self.ca_file
        kwargs.setdefault('timeout', 10)
        return super().request(method, url, *args, **kwargs)


def scenario(cert_pem: str = '') -> dict[str, Any]:
    """The scenario most tests run against."""
    apps = [
        {'client_id': APP, 'secret': SECRET, 'roles': [WRITE_ROLE]},
        {'client_id': READER, 'secret': READER_SECRET, 'roles': [READ_ROLE]},
        {'client_id': NOROLE, 'secret': NOROLE_SECRET, 'roles': []},
        {'client_id': FED_APP, 'roles': [WRITE_ROLE], 'federated_credentials': [{'issuer': FED_ISSUER, 'subject': FED_SUBJECT}]},
    ]
    if cert_pem:
        apps.append({'client_id': CERT_APP, 'certificate_pem': cert_pem, 'roles': [WRITE_ROLE]})
    return {
        'settings': {'cancel_delay_seconds': 0.3, 'page_size': 100, 'batch_order': 'reversed'},
        'tenants': [
            {'id': TENANT, 'domains': ['contoso.example'], 'apps': apps},
            {'id': TENANT_B, 'apps': [{'client_id': APP_B, 'secret': APP_B_SECRET, 'roles': [WRITE_ROLE]}]},
        ],
        'managed_identity': {
            'identity_header': MI_HEADER,
            'identities': [
                {'client_id': 'system', 'tenant_id': TENANT, 'roles': [WRITE_ROLE]},
                {'client_id': MI_CLIENT, 'tenant_id': TENANT, 'roles': [READ_ROLE]},
            ],
        },
        'jobs': [
            {
                'id': JOB, 'displayName': 'Wave 1', 'status': 'inProgress', 'completeAfterDateTime': '2099-01-01T00:00:00Z',
                'tasks': [
                    {'id': TASK, 'workloads': {'Exchange': 'inProgress', 'ODSP': 'notStarted', 'Teams': 'notStarted'}},
                    {'id': TASK_2, 'workloads': {'Exchange': 'syncing', 'ODSP': 'notStarted'}},
                    {'id': TASK_DONE, 'workloads': {'Exchange': 'completed', 'ODSP': 'inProgress'}},
                    {'id': TASK_CANCELLED, 'workloads': {'Exchange': 'cancelled', 'ODSP': 'cancelled'}},
                    {'id': TASK_FINALIZING, 'workloads': [{'service': 'Exchange', 'status': 'Finalizing', 'message': 'cutting over', 'errors': []}]},
                ],
            },
            {'id': JOB_CUTOVER, 'status': 'cuttingOver', 'tasks': [OTHER_TASK]},
            {'id': JOB_PAST, 'status': 'inProgress', 'completeAfterDateTime': 'now-1h', 'tasks': [OTHER_TASK]},
            {'id': JOB_B, 'status': 'inProgress', 'targetTenantId': TENANT_B, 'tasks': [OTHER_TASK]},
            {'id': JOB_EXTRA, 'status': 'submitted', 'tasks': [OTHER_TASK]},
        ],
    }


def bearer(token_value: str) -> dict[str, str]:
    """Authorization header."""
    return {'Authorization': 'Bearer ' + token_value}


def task_url(job: str = JOB, task: str = TASK, version: str = 'v1.0') -> str:
    """Path of a task."""
    return '/%s/solutions/migrations/crossTenantMigrationJobs/%s/users/%s' % (version, job, task)


def raw_request(emu: Any, method: str, path: str, headers: Optional[dict[str, str]] = None, body: bytes = b'', read_seconds: float = 1.0,
                max_bytes: int = 1 << 20) -> bytes:
    """Send one request over a fresh TLS connection, read what arrives for read_seconds (or up to max_bytes), then close.

    The client of a trickle or oversized test: it gives up early, like a client with a short socket timeout."""
    lines = ['%s %s HTTP/1.1' % (method, path), 'Host: 127.0.0.1:%d' % emu.port, 'Content-Length: %d' % len(body)]
    lines.extend('%s: %s' % item for item in (headers or {}).items())
    context = ssl.create_default_context(cafile=emu.ca_file)
    received = b''
    with socket.create_connection(('127.0.0.1', emu.port), timeout=5) as sock:
        with context.wrap_socket(sock, server_hostname='127.0.0.1') as tls:
            tls.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode('ascii') + body)
            deadline = time.monotonic() + read_seconds
            while len(received) < max_bytes:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                tls.settimeout(left)
                try:
                    chunk = tls.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                received += chunk
    return received


def split_reply(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body bytes received) of a raw HTTP reply."""
    head, _sep, body = raw.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    headers = {}
    for line in lines[1:]:
        name, _colon, value = line.partition(':')
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def wait_for_entry(emu: Any, test: Callable[[dict[str, Any]], bool], seconds: float = 3.0) -> dict[str, Any]:
    """The first request log entry that passes ``test``, waiting for it to be written (streamed replies log when they end)."""
    deadline = time.monotonic() + seconds
    while True:
        for entry in emu.requests():
            if test(entry):
                return entry
        if time.monotonic() >= deadline:
            raise AssertionError('no such request log entry within %gs: %r' % (seconds, emu.requests()))
        time.sleep(0.02)
