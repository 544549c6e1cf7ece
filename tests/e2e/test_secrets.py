# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secret hygiene per authentication method at -vvvv, succeeding and failing, with a server
that quotes the whole request (headers and form) back in its error, as a proxy might."""

from __future__ import annotations

import re
import time

import jwt
import pytest

from conftest import APP, CERT_APP, FEDERATED_APP, FEDERATED_ISSUER, FEDERATED_SUBJECT, MI_HEADER, TENANT, base_scenario

# A secret whose URL-encoded and JSON-escaped forms differ from itself.
ODD_SECRET = 'e2e+Odd/Secret=7&"x"'
JWT_SHAPE = re.compile(r'eyJ[A-Za-z0-9_-]{8,}')


def secret_app_scenario(cert_pem):
    scenario = base_scenario(cert_pem)
    scenario['tenants'][0]['apps'][0]['secret'] = [ODD_SECRET]
    return scenario


def federated_token():
    now = int(time.time())
    claims = {'iss': FEDERATED_ISSUER, 'sub': FEDERATED_SUBJECT, 'aud': 'api://AzureADTokenExchange', 'iat': now, 'nbf': now,
              'exp': now + 600}
    return jwt.encode(claims, 'e2e-issuer-signing-key-of-32-bytes!!', algorithm='HS256')


def assert_clean(run, secrets, harness):
    for secret in secrets:
        assert secret not in run.output, 'a secret was printed'
    for token in harness.issued_tokens():
        assert token not in run.output, 'a token was printed'
    assert not JWT_SHAPE.search(run.output), 'an assertion or JWT was printed'


def methods(harness, app_certificate, tmp_path):
    """(name, task options, environment, secrets that must never be printed, echo fault kind)."""
    _cert_pem, pem_file, _pfx, password = app_certificate
    token_file = tmp_path / 'federated-token'
    token_file.write_text(federated_token())
    with open(pem_file, encoding='ascii') as handle:
        key_lines = [line for line in handle.read().splitlines() if line and not line.startswith('-----')][:3]
    minted = harness.emu.mint_token(TENANT, APP, ['CrossTenantContentMigration.ReadWrite.All'])
    return {
        'client_secret': ({'client_secret': ODD_SECRET}, {}, [ODD_SECRET, 'e2e%2BOdd%2FSecret'], 'token'),
        'certificate': ({'client_id': CERT_APP, 'client_secret': None, 'client_certificate_path': pem_file,
                         'client_certificate_password': password}, {}, [password] + key_lines, 'token'),
        'federated_token': ({'client_id': FEDERATED_APP, 'client_secret': None, 'federated_token_file': str(token_file)}, {},
                            [token_file.read_text()], 'token'),
        'managed_identity': ({'client_id': None, 'client_secret': None, 'tenant_id': None, 'auth_method': 'managed_identity'},
                             {'IDENTITY_ENDPOINT': harness.emu.url + '/msi/token', 'IDENTITY_HEADER': MI_HEADER}, [MI_HEADER], 'msi'),
        'access_token': ({'client_secret': None, 'access_token': minted}, {}, [minted], 'graph'),
    }


@pytest.mark.parametrize('method', ['client_secret', 'certificate', 'federated_token', 'managed_identity', 'access_token'])
def test_no_secret_at_vvvv_succeeding_or_failing_against_an_echoing_server(harness, app_certificate, tmp_path, method):
    harness.emu.reset(secret_app_scenario(app_certificate[0]))
    options, env, secrets, echo_kind = methods(harness, app_certificate, tmp_path)[method]
    ok = harness.play([harness.cancel_task(token_cache=False, **options)], env=env, args=('-vvvv',))
    assert ok.rc == 0, ok.output
    assert ok.result()['changed'] is True
    assert_clean(ok, secrets, harness)

    for content_type in ('application/json', 'text/html'):
        harness.emu.clear_faults()
        harness.emu.add_fault({'match': {'kind': echo_kind}, 'action': 'echo', 'status': 400, 'content_type': content_type})
        failed = harness.play([harness.cancel_task(token_cache=False, **options)], env=env, args=('-vvvv',))
        assert failed.rc != 0
        assert_clean(failed, secrets, harness)
        echoed = [e for e in harness.requests() if e.get('fault') and 'echo' in e['fault']]
        assert echoed, 'the echo fault answered'
        result = failed.result()
        assert result['changed'] is False and 'Unexpected' not in result['msg']
