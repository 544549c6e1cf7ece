# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Entra ID discovery and token endpoint, and App Service managed identity, driven through real msal."""

from __future__ import annotations

import time

import jwt
import msal
import pytest

from emu_helpers import (APP, APP_B, CERT_APP, FED_APP, FED_ISSUER, FED_SUBJECT, GRAPH_SCOPE, JOB, JOBS, MI_CLIENT, MI_HEADER, SECRET, TASK, TENANT,
                         TENANT_B, CASession, bearer)


def confidential(emu, client_id, credential, tenant=TENANT):
    return msal.ConfidentialClientApplication(client_id, client_credential=credential, authority='%s/%s' % (emu.url, tenant),
                                              http_client=CASession(emu.ca_file), instance_discovery=False)


def federated_assertion(issuer=FED_ISSUER, subject=FED_SUBJECT, audience='api://AzureADTokenExchange', expires_in=600):
    now = int(time.time())
    return jwt.encode({'iss': issuer, 'sub': subject, 'aud': audience, 'iat': now, 'nbf': now, 'exp': now + expires_in},
                      'issuer-signing-key-not-verified-by-the-emulator-0123456789', algorithm='HS256')


def test_openid_configuration(emu, http):
    resp = http.get(emu.url + '/%s/v2.0/.well-known/openid-configuration' % TENANT)
    assert resp.status_code == 200
    config = resp.json()
    assert config['token_endpoint'] == '%s/%s/oauth2/v2.0/token' % (emu.url, TENANT)
    assert config['issuer'] == '%s/%s/v2.0' % (emu.url, TENANT)
    for key in ('authorization_endpoint', 'device_authorization_endpoint', 'jwks_uri'):
        assert config[key].startswith(emu.url)
    assert http.get(config['jwks_uri']).json() == {'keys': []}
    # A tenant domain resolves to the tenant GUID.
    assert http.get(emu.url + '/contoso.example/v2.0/.well-known/openid-configuration').json()['token_endpoint'] == config['token_endpoint']


def test_unknown_tenant(emu, http):
    resp = http.get(emu.url + '/nowhere.example/v2.0/.well-known/openid-configuration')
    assert resp.status_code == 400
    body = resp.json()
    assert body['error'] == 'invalid_tenant' and body['error_codes'] == [90002]
    assert body['error_description'].startswith("AADSTS90002: Tenant 'nowhere.example' not found.")
    for key in ('timestamp', 'trace_id', 'correlation_id'):
        assert key in body
    with pytest.raises(ValueError):
        confidential(emu, APP, SECRET, tenant='nowhere.example')


def test_msal_client_secret(emu, http):
    result = confidential(emu, APP, SECRET).acquire_token_for_client([GRAPH_SCOPE])
    assert result['token_type'] == 'Bearer' and result['expires_in'] > 3000
    resp = http.get(emu.url + JOBS, headers=bearer(result['access_token']))
    assert resp.status_code == 200
    token_lines = [e for e in emu.requests() if e['kind'] == 'token']
    assert token_lines[-1]['credential'] == 'secret' and token_lines[-1]['client_id'] == APP and token_lines[-1]['scope'] == GRAPH_SCOPE
    assert any(e['kind'] == 'oidc' for e in emu.requests())


def test_msal_wrong_secret(emu):
    result = confidential(emu, APP, 'not-the-secret').acquire_token_for_client([GRAPH_SCOPE])
    assert result['error'] == 'invalid_client'
    assert result['error_description'].startswith('AADSTS7000215: Invalid client secret provided.')
    assert 7000215 in result['error_codes']
    assert 'not-the-secret' not in result['error_description']


def test_unknown_client_and_wrong_tenant(emu):
    result = confidential(emu, '77777777-7777-4777-8777-777777777777', 'x').acquire_token_for_client([GRAPH_SCOPE])
    assert result['error'] == 'unauthorized_client' and result['error_codes'] == [700016]
    # An app of tenant B asking tenant A: not found in that directory.
    result = confidential(emu, APP_B, 'x').acquire_token_for_client([GRAPH_SCOPE])
    assert result['error_codes'] == [700016]


def test_invalid_scope(emu):
    result = confidential(emu, APP, SECRET).acquire_token_for_client(['User.Read'])
    assert result['error'] == 'invalid_scope' and result['error_codes'] == [70011]


def test_msal_certificate_ps256_and_rs256(emu, http, app_cert):
    cert_pem, key_pem, sha1 = app_cert
    # public_certificate: msal sends x5t#S256 and signs PS256.
    result = confidential(emu, CERT_APP, {'private_key': key_pem, 'public_certificate': cert_pem}).acquire_token_for_client([GRAPH_SCOPE])
    assert 'access_token' in result, result
    assert http.get(emu.url + JOBS, headers=bearer(result['access_token'])).status_code == 200
    # thumbprint only: x5t (SHA-1) and RS256.
    result = confidential(emu, CERT_APP, {'private_key': key_pem, 'thumbprint': sha1}).acquire_token_for_client([GRAPH_SCOPE])
    assert 'access_token' in result, result
    assert [e['credential'] for e in emu.requests() if e['kind'] == 'token'] == ['certificate', 'certificate']


def test_certificate_not_registered(emu, app_cert):
    _cert_pem, key_pem, _sha1 = app_cert
    result = confidential(emu, CERT_APP, {'private_key': key_pem, 'thumbprint': '00' * 20}).acquire_token_for_client([GRAPH_SCOPE])
    assert result['error'] == 'invalid_client' and result['error_codes'] == [700027]
    # The app exists but has only a secret.
    result = confidential(emu, APP, {'private_key': key_pem, 'thumbprint': _sha1}).acquire_token_for_client([GRAPH_SCOPE])
    assert result['error_codes'] == [700027]


def test_certificate_wrong_key(emu, app_cert):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    cert_pem, _key_pem, sha1 = app_cert
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    result = confidential(emu, CERT_APP, {'private_key': other_pem, 'thumbprint': sha1}).acquire_token_for_client([GRAPH_SCOPE])
    assert result['error_codes'] == [700027] and 'signature' in result['error_description']
    del cert_pem


def test_certificate_assertion_expired_and_wrong_audience(emu, http, app_cert):
    import base64

    cert_pem, key_pem, sha1 = app_cert
    x5t = base64.urlsafe_b64encode(bytes.fromhex(sha1)).decode()
    endpoint = '%s/%s/oauth2/v2.0/token' % (emu.url, TENANT)
    now = int(time.time())

    def post(claims):
        assertion = jwt.encode(claims, key_pem, algorithm='RS256', headers={'x5t': x5t})
        return http.post(endpoint, data={'grant_type': 'client_credentials', 'client_id': CERT_APP, 'scope': GRAPH_SCOPE,
                                         'client_assertion_type': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
                                         'client_assertion': assertion})

    good = {'iss': CERT_APP, 'sub': CERT_APP, 'aud': endpoint, 'exp': now + 600, 'iat': now, 'jti': '1'}
    assert post(good).status_code == 200
    expired = post(dict(good, exp=now - 3600))
    assert expired.status_code == 401 and expired.json()['error_codes'] == [700024]
    wrong_aud = post(dict(good, aud='https://elsewhere.example/token'))
    assert wrong_aud.status_code == 401 and wrong_aud.json()['error_codes'] == [700027]
    del cert_pem


def test_federated(emu, http):
    result = confidential(emu, FED_APP, {'client_assertion': federated_assertion}).acquire_token_for_client([GRAPH_SCOPE])
    assert 'access_token' in result, result
    assert http.get(emu.url + JOBS, headers=bearer(result['access_token'])).status_code == 200
    assert [e['credential'] for e in emu.requests() if e['kind'] == 'token'] == ['federated']


@pytest.mark.parametrize('kwargs, code', [
    ({'subject': 'system:serviceaccount:other:sa'}, 70021),
    ({'issuer': 'https://other-issuer.example'}, 70021),
    ({'audience': 'api://wrong-audience'}, 700212),
    ({'expires_in': -3600}, 700024),
])
def test_federated_rejected(emu, kwargs, code):
    result = confidential(emu, FED_APP, {'client_assertion': (lambda: federated_assertion(**kwargs))}).acquire_token_for_client([GRAPH_SCOPE])
    assert result['error_codes'] == [code], result


def test_token_endpoint_missing_credential_and_grant(emu, http):
    endpoint = '%s/%s/oauth2/v2.0/token' % (emu.url, TENANT)
    resp = http.post(endpoint, data={'grant_type': 'client_credentials', 'client_id': APP, 'scope': GRAPH_SCOPE})
    assert resp.status_code == 401 and resp.json()['error_codes'] == [7000218]
    resp = http.post(endpoint, data={'grant_type': 'password', 'client_id': APP, 'scope': GRAPH_SCOPE, 'client_secret': SECRET})
    assert resp.json()['error'] == 'unsupported_grant_type'
    assert http.get(endpoint).status_code == 405
    assert [e['credential'] for e in emu.requests()] == ['none', 'secret', 'none']


def test_token_lifetime_and_tenant_b(emu, http):
    result = confidential(emu, APP_B, 'test-TenantB-Secret-1Wc4', tenant=TENANT_B).acquire_token_for_client([GRAPH_SCOPE])
    assert 'access_token' in result
    # Tenant B's token does not see tenant A's job.
    assert http.get(emu.url + JOBS + '/' + JOB, headers=bearer(result['access_token'])).status_code == 404


@pytest.fixture
def mi_env(emu, monkeypatch):
    for name in ('IDENTITY_SERVER_THUMBPRINT', 'MSI_ENDPOINT', 'MSI_SECRET', 'IMDS_ENDPOINT'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('IDENTITY_ENDPOINT', emu.url + '/msi/token')
    monkeypatch.setenv('IDENTITY_HEADER', MI_HEADER)


def test_managed_identity_system_assigned(emu, http, mi_env):
    del mi_env
    client = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=CASession(emu.ca_file))
    result = client.acquire_token_for_client(resource='https://graph.microsoft.com')
    assert 'access_token' in result, result
    assert http.post(emu.url + JOBS + '/%s/users/%s/cancel' % (JOB, TASK),
                     headers=bearer(result['access_token'])).status_code == 202
    line = [e for e in emu.requests() if e['kind'] == 'msi'][0]
    assert line['query']['api-version'] == '2019-08-01' and line['client_id'] is None


def test_managed_identity_user_assigned(emu, http, mi_env):
    del mi_env
    client = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id=MI_CLIENT), http_client=CASession(emu.ca_file))
    result = client.acquire_token_for_client(resource='https://graph.microsoft.com')
    assert 'access_token' in result, result
    # The user-assigned identity only reads.
    assert http.get(emu.url + JOBS, headers=bearer(result['access_token'])).status_code == 200
    assert http.post(emu.url + JOBS + '/%s/cancel' % JOB, headers=bearer(result['access_token'])).status_code == 403
    unknown = msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id=APP), http_client=CASession(emu.ca_file))
    assert 'access_token' not in unknown.acquire_token_for_client(resource='https://graph.microsoft.com')


def test_managed_identity_header(emu, http):
    url = emu.url + '/msi/token'
    params = {'api-version': '2019-08-01', 'resource': 'https://graph.microsoft.com'}
    missing = http.get(url, params=params)
    assert missing.status_code == 400 and missing.json()['statusCode'] == 400
    wrong = http.get(url, params=params, headers={'X-IDENTITY-HEADER': 'wrong'})
    assert wrong.status_code == 401 and set(wrong.json()) == {'statusCode', 'message'}
    good = http.get(url, params=params, headers={'X-IDENTITY-HEADER': MI_HEADER})
    body = good.json()
    assert good.status_code == 200 and body['token_type'] == 'Bearer' and body['resource'] == 'https://graph.microsoft.com'
    assert isinstance(body['expires_on'], str) and int(body['expires_on']) > time.time()
    unknown = http.get(url, params=dict(params, client_id=APP), headers={'X-IDENTITY-HEADER': MI_HEADER})
    assert unknown.status_code == 400


def test_malformed_assertion(emu, http):
    endpoint = '%s/%s/oauth2/v2.0/token' % (emu.url, TENANT)
    form = {'grant_type': 'client_credentials', 'client_id': FED_APP, 'scope': GRAPH_SCOPE,
            'client_assertion_type': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'client_assertion': 'not.a.jwt'}
    resp = http.post(endpoint, data=form)
    assert resp.status_code == 400 and resp.json()['error_codes'] == [50027]
    both = http.post(endpoint, data=dict(form, client_assertion=federated_assertion(), client_secret=SECRET))
    assert both.status_code == 400 and both.json()['error_codes'] == [9002313]
    # The log classifies without verifying: a token that is not a JWT counts as a (broken) certificate assertion.
    assert [e['credential'] for e in emu.requests()] == ['certificate', 'secret']


def test_assertion_is_decoded_once_per_request(emu, http, monkeypatch):
    from msgraph_emulator import entra

    calls = []
    real = entra.read_assertion
    monkeypatch.setattr(entra, 'read_assertion', lambda *args: calls.append(args) or real(*args))
    result = confidential(emu, FED_APP, {'client_assertion': federated_assertion}).acquire_token_for_client([GRAPH_SCOPE])
    assert 'access_token' in result
    assert len(calls) == 1 and emu.requests()[-1]['credential'] == 'federated'
