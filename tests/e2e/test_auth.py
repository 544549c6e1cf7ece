# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every authentication method end to end, the AWX environment names, and secret hygiene."""

from __future__ import annotations

import time

import jwt
import pytest

from conftest import APP, CERT_APP, FEDERATED_APP, FEDERATED_ISSUER, FEDERATED_SUBJECT, MI_CLIENT, MI_HEADER, SECRET, TENANT


def token_requests(harness):
    return harness.requests(kind='token')


def assert_cancelled(run):
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True


def test_wrong_secret_names_method_and_entra_error_never_the_secret(harness):
    wrong = 'e2e-Wrong-Secret-8Hd3'
    run = harness.play([harness.cancel_task(client_secret=wrong)], args=('-vvvv',))
    assert run.rc != 0
    msg = run.result()['msg']
    assert msg.startswith('Authentication with client_secret failed')
    assert 'AADSTS7000215' in msg and 'invalid_client' in msg
    assert wrong not in run.output and SECRET not in run.output
    assert harness.requests(kind='graph') == []


@pytest.mark.parametrize('which', ['pem', 'pfx'])
def test_certificate_auth(harness, app_certificate, which):
    _cert_pem, pem_file, pfx_file, password = app_certificate
    path = pem_file if which == 'pem' else pfx_file
    run = harness.play([harness.cancel_task(client_id=CERT_APP, client_secret=None, client_certificate_path=path,
                                            client_certificate_password=password)], args=('-vvvv',))
    assert_cancelled(run)
    assert [t['credential'] for t in token_requests(harness)] == ['certificate']
    assert password not in run.output


def test_certificate_wins_over_secret_in_auto(harness, app_certificate):
    _cert_pem, pem_file, _pfx, password = app_certificate
    run = harness.play([harness.cancel_task(client_id=CERT_APP, client_certificate_path=pem_file,
                                            client_certificate_password=password)])
    assert_cancelled(run)
    assert [t['credential'] for t in token_requests(harness)] == ['certificate']


def test_wrong_certificate_password_fails_before_any_request(harness, app_certificate):
    run = harness.play([harness.cancel_task(client_id=CERT_APP, client_secret=None, client_certificate_path=app_certificate[1],
                                            client_certificate_password='e2e-Not-The-Password')])
    assert run.rc != 0 and 'client_certificate_password' in run.result()['msg']
    assert 'e2e-Not-The-Password' not in run.output
    assert harness.requests() == []


def federated_token(audience='api://AzureADTokenExchange'):
    now = int(time.time())
    claims = {'iss': FEDERATED_ISSUER, 'sub': FEDERATED_SUBJECT, 'aud': audience, 'iat': now, 'nbf': now, 'exp': now + 600}
    return jwt.encode(claims, 'e2e-issuer-signing-key-of-32-bytes!!', algorithm='HS256')


def test_federated_token_file(harness, tmp_path):
    token_file = tmp_path / 'federated-token'
    token_file.write_text(federated_token())
    run = harness.play([harness.cancel_task(client_id=FEDERATED_APP, client_secret=None, federated_token_file=str(token_file))],
                       args=('-vvvv',))
    assert_cancelled(run)
    assert [t['credential'] for t in token_requests(harness)] == ['federated']
    assert token_file.read_text() not in run.output


def test_federated_token_from_the_environment_that_entra_rejects(harness, tmp_path):
    token_file = tmp_path / 'federated-token'
    token_file.write_text(federated_token(audience='api://wrong-audience'))
    run = harness.play([harness.cancel_task(client_id=FEDERATED_APP, client_secret=None)],
                       env={'AZURE_FEDERATED_TOKEN_FILE': str(token_file)})
    assert run.rc != 0
    assert run.result()['msg'].startswith('Authentication with federated_token failed') and 'AADSTS' in run.result()['msg']


def test_access_token_makes_no_token_request(harness):
    token = harness.emu.mint_token(tenant_id=TENANT, client_id=APP, roles=['CrossTenantContentMigration.ReadWrite.All'])
    run = harness.play([harness.cancel_task(client_id=None, client_secret=None, tenant_id=None, access_token=token)], args=('-vvvv',))
    assert_cancelled(run)
    assert token_requests(harness) == [] and harness.requests(kind='oidc') == []
    assert token not in run.output


@pytest.mark.parametrize('client_id', [None, MI_CLIENT])
def test_managed_identity_through_the_app_service_endpoint(harness, client_id):
    env = {'IDENTITY_ENDPOINT': harness.emu.url + '/msi/token', 'IDENTITY_HEADER': MI_HEADER}
    run = harness.play([harness.cancel_task(client_id=client_id, client_secret=None, tenant_id=None, auth_method='managed_identity')],
                       env=env)
    assert_cancelled(run)
    msi = harness.requests(kind='msi')
    assert len(msi) == 1
    assert msi[0]['query'].get('client_id') == client_id
    assert msi[0]['query']['resource'] == harness.emu.url


def test_auto_without_credentials_fails_clearly_and_sends_nothing(harness):
    run = harness.play([harness.cancel_task(client_id=None, client_secret=None, tenant_id=None)])
    assert run.rc != 0 and 'credentials for auth_method auto, but none are set' in run.result()['msg']
    assert harness.requests() == []


def test_awx_builtin_azure_credential_environment(harness):
    """Only what AWX's "Microsoft Azure Resource Manager" credential injects (plus where the emulator is)."""
    env = {'AZURE_CLIENT_ID': APP, 'AZURE_SECRET': SECRET, 'AZURE_TENANT': TENANT, 'AZURE_SUBSCRIPTION_ID': '',
           'AZURE_CLOUD_ENVIRONMENT': 'AzureCloud', 'AZURE_AUTHORITY_HOST': harness.emu.url,
           # AWX renders unset optional fields as empty strings; they must not count as set.
           'AZURE_CLIENT_SECRET': '', 'AZURE_TENANT_ID': ''}
    task = {'name': 'Cancel', 'msgraph.migrations.crosstenant_migration_task_cancel': {
        'job_id': '{{ job_id }}', 'user_id': '{{ user_id }}', 'graph_endpoint': harness.emu.url, 'ca_path': harness.emu.ca_file}}
    survey = ('-e', 'job_id=add14989-2b21-4001-81bd-a18b0bac1dea', '-e', 'user_id=6a88de8d-7027-44c1-8674-03f826aa1704')
    run = harness.play([task], env=env, args=survey + ('-vvvv',))
    assert_cancelled(run)
    assert token_requests(harness)[0]['client_id'] == APP
    assert token_requests(harness)[0]['scope'] == harness.emu.url + '/.default'
    assert SECRET not in run.output


def test_awx_cloud_name_is_validated(harness):
    run = harness.play([harness.cancel_task()], env={'AZURE_CLOUD_ENVIRONMENT': 'AzureGermanCloud'})
    assert run.rc != 0 and 'cloud' in run.result()['msg']
    assert harness.requests() == []
