# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Credentials (_auth/credentials.py): which method auto picks, inputs checked before any request,
real msal flows over a fake Entra ID, and failures that never repeat an exception's text."""

from __future__ import annotations

import datetime
import time

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._auth.credentials import (
    AccessTokenCredential,
    CertificateCredential,
    ClientSecretCredential,
    FederatedTokenCredential,
    ManagedIdentityCredential,
    create_credential,
    load_certificate_credential,
    resolve_credential_class,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.entra_http import EntraHttpClient
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import (
    AuthenticationError,
    GraphMigrationsError,
    OptionError,
    TransportError,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import MASK, Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import RetryPolicy

from ansible_collections.msgraph.migrations.tests.unit.fakes import (
    CLIENT_ID,
    GRAPH,
    LOGIN,
    TENANT,
    EntraService,
    FakeTransport,
    make_settings,
    reply,
)

SECRET = 'client-secret-value-1234'
AUTHORITY = '%s/%s' % (LOGIN, TENANT)


def build(transport, environ=None, **settings):
    """A credential of the configured method over ``transport``, and the redactor it registers with."""
    registered = []
    redactor = Redactor(register=registered.append)
    http = EntraHttpClient(transport, RetryPolicy(0), redactor, lambda message: None, sleep=lambda seconds: None)
    credential = create_credential(make_settings(**settings), http, redactor, None, environ={} if environ is None else environ)
    return credential, redactor, registered


@pytest.mark.parametrize('given, method', [
    (dict(access_token='t', client_secret='s', client_certificate_path='/c'), AccessTokenCredential),
    (dict(client_secret='s', client_certificate_path='/c', federated_token_file='/f'), CertificateCredential),
    (dict(client_secret='s', federated_token_file='/f'), ClientSecretCredential),
    (dict(client_secret=None, federated_token_file='/f'), FederatedTokenCredential),
    (dict(auth_method='managed_identity', client_secret='s'), ManagedIdentityCredential),
])
def test_auto_picks_in_the_documented_order(given, method):
    given.setdefault('auth_method', 'auto')
    assert resolve_credential_class(make_settings(**given), environ={}) is method


def test_auto_uses_managed_identity_only_where_an_endpoint_is_advertised():
    """Without IDENTITY_ENDPOINT or MSI_ENDPOINT, auto never tries the VM metadata endpoint (it would hang)."""
    settings = make_settings(auth_method='auto', client_secret=None)
    assert resolve_credential_class(settings, environ={'IDENTITY_ENDPOINT': 'http://127.0.0.1:1/msi'}) is ManagedIdentityCredential
    with pytest.raises(OptionError) as caught:
        resolve_credential_class(settings, environ={})
    assert caught.value.option == 'auth_method' and 'AZURE_CLIENT_SECRET' in caught.value.message


@pytest.mark.parametrize('overrides, words', [
    (dict(tenant_id=None), 'tenant_id (or AZURE_TENANT_ID or AZURE_TENANT)'),
    (dict(client_id=None), 'client_id (or AZURE_CLIENT_ID)'),
    (dict(client_secret=None, auth_method='client_secret'), 'client_secret (or AZURE_CLIENT_SECRET or AZURE_SECRET)'),
    (dict(tenant_id='contoso/../evil'), 'a tenant GUID or domain name'),
    (dict(tenant_id='tenant?x=1'), 'a tenant GUID or domain name'),
    (dict(client_secret=None, auth_method='federated_token', federated_token_file='/nonexistent/token'), 'federated_token_file'),
    (dict(client_secret=None, auth_method='certificate', client_certificate_path='/nonexistent/app.pem'), 'client_certificate_path'),
])
def test_inputs_are_checked_before_any_request(overrides, words):
    """A missing or malformed input fails naming the option and its environment variables; nothing is sent."""
    transport = FakeTransport()
    with pytest.raises(OptionError) as caught:
        build(transport, **overrides)
    assert words in caught.value.message
    assert transport.sent == []


def test_managed_identity_endpoint_and_header_are_checked_without_showing_the_header():
    settings = make_settings(auth_method='managed_identity')
    with pytest.raises(OptionError, match='IDENTITY_ENDPOINT'):
        ManagedIdentityCredential.validate(settings, {'IDENTITY_ENDPOINT': 'ftp://host/x'})
    with pytest.raises(OptionError, match='IDENTITY_ENDPOINT'):
        ManagedIdentityCredential.validate(settings, {'IDENTITY_ENDPOINT': 'http://user:pw@host/x'})
    with pytest.raises(OptionError) as caught:
        ManagedIdentityCredential.validate(settings, {'IDENTITY_ENDPOINT': 'http://127.0.0.1/x', 'IDENTITY_HEADER': 'hdr secret\n'})
    assert 'IDENTITY_HEADER' in caught.value.message and 'hdr secret' not in caught.value.message
    ManagedIdentityCredential.validate(settings, {'IDENTITY_ENDPOINT': 'http://127.0.0.1:41234/msi/token', 'IDENTITY_HEADER': 'h'})


def test_an_access_token_is_given_as_is_and_never_refreshed():
    transport = FakeTransport()
    credential, _redactor, _registered = build(transport, auth_method='access_token', access_token='given-token')
    assert credential.get_token() == 'given-token' and credential.get_token(force_refresh=True) == 'given-token'
    assert credential.can_refresh is False and transport.sent == []


def test_client_secret_flow_discovers_then_posts_the_form():
    """Real msal: OIDC discovery on the authority, then the client-credentials form with the Graph scope."""
    transport = FakeTransport(handler=EntraService(AUTHORITY))
    credential, redactor, registered = build(transport)
    assert transport.sent == [], 'building a credential sends nothing'
    token = credential.get_token()
    assert token == 'access-token-1'
    assert transport.urls == [AUTHORITY + '/v2.0/.well-known/openid-configuration', AUTHORITY + '/oauth2/v2.0/token']
    form = transport.sent[1].form
    assert form['client_id'] == CLIENT_ID and form['client_secret'] == SECRET and form['grant_type'] == 'client_credentials'
    assert form['scope'] == GRAPH + '/.default'
    assert SECRET in registered and redactor.scrub('token access-token-1') == 'token %s' % MASK


def test_a_cached_token_is_reused_and_force_refresh_gets_a_new_one():
    transport = FakeTransport(handler=EntraService(AUTHORITY))
    credential, _redactor, _registered = build(transport)
    assert credential.get_token() == 'access-token-1'
    assert credential.get_token() == 'access-token-1'
    assert len(transport.sent) == 2
    assert credential.get_token(force_refresh=True) == 'access-token-2'
    assert [sent.method for sent in transport.sent] == ['GET', 'POST', 'POST']


def test_a_refused_token_request_reports_entras_code_and_scrubbed_words():
    refusal = reply(401, {'error': 'invalid_client', 'error_codes': [7000215],
                          'error_description': 'AADSTS7000215: Invalid client secret provided: %s.' % SECRET})
    transport = FakeTransport(handler=EntraService(AUTHORITY, token_replies=[refusal]))
    credential, _redactor, _registered = build(transport)
    with pytest.raises(AuthenticationError) as caught:
        credential.get_token()
    error = caught.value
    assert error.message.startswith('Authentication with client_secret failed: login.example refused the token request with HTTP 401 '
                                    '(AADSTS7000215, invalid_client): AADSTS7000215: Invalid client secret provided: ')
    assert SECRET not in error.message and SECRET not in str(error.result)
    assert error.result['error']['code'] == 'AADSTS7000215' and error.result['auth_method'] == 'client_secret'


def test_a_failed_discovery_never_repeats_msals_exception_text():
    """msal raises a ValueError quoting the reply; the failure names its type and the scrubbed refusal only."""
    page = reply(400, raw=b'<html>tenant not found; you sent client_secret=%s</html>' % SECRET.encode(),
                 headers={'Content-Type': 'text/html'})
    credential, _redactor, _registered = build(FakeTransport(page))
    with pytest.raises(AuthenticationError) as caught:
        credential.get_token()
    message = caught.value.message
    assert SECRET not in message and 'Unable to get authority configuration' not in message and '<html>' not in message
    assert 'HTTP 400' in message and 'the reply was not JSON (text/html)' in message


def test_an_unexpected_msal_exception_reports_only_its_type(monkeypatch):
    import msal

    def explode(self, scopes, **kwargs):
        raise RuntimeError('boom: client_secret=%s' % SECRET)

    monkeypatch.setattr(msal.ConfidentialClientApplication, 'acquire_token_for_client', explode)
    credential, _redactor, _registered = build(FakeTransport(handler=EntraService(AUTHORITY)))
    with pytest.raises(AuthenticationError) as caught:
        credential.get_token()
    assert 'msal could not complete the request (RuntimeError)' in caught.value.message
    assert 'boom' not in caught.value.message and SECRET not in caught.value.message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize('kind, hint', [
    (TransportError.CONNECT, 'Check authority_host, the network and any proxy'),
    (TransportError.TLS, 'point ca_path at that CA bundle'),
    (TransportError.REDIRECT, 'Check authority_host and any proxy'),
])
def test_an_unreachable_authority_is_not_called_an_authentication_failure(kind, hint):
    failure = TransportError(kind, 'login.example', 'something went wrong on the way', may_have_reached=False)
    credential, _redactor, _registered = build(FakeTransport(failure))
    with pytest.raises(GraphMigrationsError) as caught:
        credential.get_token()
    assert not isinstance(caught.value, AuthenticationError)
    assert caught.value.message.startswith('Could not get a token from login.example: something went wrong on the way.')
    assert hint in caught.value.message and caught.value.result['error']['kind'] == kind


def test_federated_token_file_is_read_for_every_token_request(tmp_path):
    """A rotated file is picked up; the assertion is registered before it is sent."""
    token_file = tmp_path / 'token'
    token_file.write_text('first-federated-assertion\n')
    transport = FakeTransport(handler=EntraService(AUTHORITY))
    credential, redactor, _registered = build(transport, auth_method='federated_token', client_secret=None,
                                              federated_token_file=str(token_file))
    credential.get_token()
    assert transport.sent[-1].form['client_assertion'] == 'first-federated-assertion'
    assert transport.sent[-1].form['client_assertion_type'] == 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
    token_file.write_text('second-federated-assertion')
    credential.get_token(force_refresh=True)
    assert transport.sent[-1].form['client_assertion'] == 'second-federated-assertion'
    assert redactor.scrub('first-federated-assertion second-federated-assertion') == '%s %s' % (MASK, MASK)


def test_an_empty_federated_token_file_names_the_option(tmp_path):
    token_file = tmp_path / 'token'
    token_file.write_text('\n')
    credential, _redactor, _registered = build(FakeTransport(handler=EntraService(AUTHORITY)), auth_method='federated_token',
                                               client_secret=None, federated_token_file=str(token_file))
    with pytest.raises(OptionError) as caught:
        credential.get_token()
    assert caught.value.option == 'federated_token_file' and 'is empty' in caught.value.message


def test_managed_identity_on_app_service_registers_the_identity_header(monkeypatch):
    """msal reads the App Service endpoint from the environment; its header is a secret before it is sent."""
    endpoint = 'http://127.0.0.1:41234/msi/token'
    monkeypatch.setenv('IDENTITY_ENDPOINT', endpoint)
    monkeypatch.setenv('IDENTITY_HEADER', 'identity-header-secret')
    answer = reply(200, {'access_token': 'mi-token', 'expires_on': str(int(time.time()) + 3600), 'resource': GRAPH, 'token_type': 'Bearer'})
    transport = FakeTransport(answer)
    credential, redactor, _registered = build(transport, environ={'IDENTITY_ENDPOINT': endpoint, 'IDENTITY_HEADER': 'identity-header-secret'},
                                              auth_method='managed_identity', client_secret=None, client_id=None)
    assert credential.get_token() == 'mi-token'
    sent = transport.sent[0]
    assert sent.url == endpoint and sent.params['resource'] == GRAPH and sent.headers['X-IDENTITY-HEADER'] == 'identity-header-secret'
    assert redactor.scrub('identity-header-secret') == MASK


def test_a_refused_managed_identity_names_the_endpoint(monkeypatch):
    endpoint = 'http://127.0.0.1:41234/msi/token'
    monkeypatch.setenv('IDENTITY_ENDPOINT', endpoint)
    monkeypatch.setenv('IDENTITY_HEADER', 'identity-header-secret')
    transport = FakeTransport(reply(400, {'statusCode': 400, 'message': 'No identity for identity-header-secret'}))
    credential, _redactor, _registered = build(transport, auth_method='managed_identity', client_secret=None, client_id=None,
                                               environ={'IDENTITY_ENDPOINT': endpoint, 'IDENTITY_HEADER': 'identity-header-secret'})
    with pytest.raises(AuthenticationError) as caught:
        credential.get_token()
    assert 'managed_identity failed: 127.0.0.1:41234 refused' in caught.value.message
    assert 'identity-header-secret' not in caught.value.message


def _certificate(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'migration-app')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = tmp_path / 'app.pem'
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(b'pem-pass'))
                    + cert.public_bytes(serialization.Encoding.PEM))
    pfx = tmp_path / 'app.pfx'
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(b'app', key, cert, None, serialization.BestAvailableEncryption(b'pfx-pass')))
    return cert, pem, pfx


def test_certificates_load_from_pem_and_pkcs12_with_computed_thumbprint(tmp_path):
    from cryptography.hazmat.primitives import hashes
    cert, pem, pfx = _certificate(tmp_path)
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()
    for path, password in ((pem, 'pem-pass'), (pfx, 'pfx-pass')):
        credential = load_certificate_credential(str(path), password)
        assert credential['thumbprint'] == thumbprint
        assert 'PRIVATE KEY' in credential['private_key'] and 'CERTIFICATE' in credential['public_certificate']


def test_the_certificate_matching_the_key_is_used_from_a_full_chain(tmp_path):
    from cryptography.hazmat.primitives import hashes, serialization
    cert, pem, _pfx = _certificate(tmp_path)
    ca_dir = tmp_path / 'ca'
    ca_dir.mkdir()
    ca_cert, _ca_pem, _ca_pfx = _certificate(ca_dir)
    chain = tmp_path / 'chain.pem'
    chain.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM) + pem.read_bytes())
    assert load_certificate_credential(str(chain), 'pem-pass')['thumbprint'] == cert.fingerprint(hashes.SHA1()).hex().upper()


def test_wrong_certificate_password_names_the_option_not_the_password(tmp_path):
    _cert, pem, pfx = _certificate(tmp_path)
    for path in (pem, pfx):
        with pytest.raises(OptionError) as caught:
            load_certificate_credential(str(path), 'wrong-password-value')
        assert caught.value.option == 'client_certificate_password'
        assert 'wrong-password-value' not in caught.value.message
    with pytest.raises(OptionError, match='client_certificate_path'):
        load_certificate_credential(str(tmp_path / 'missing.pem'), None)
    lone = tmp_path / 'lone.pem'
    lone.write_bytes(pem.read_bytes().split(b'-----BEGIN CERTIFICATE-----')[0])
    with pytest.raises(OptionError, match='both the private key and the certificate'):
        load_certificate_credential(str(lone), 'pem-pass')


def test_certificate_flow_sends_a_signed_assertion_that_is_registered(tmp_path):
    """The private key and the signed client assertion are secrets; the form carries no client_secret."""
    _cert, pem, _pfx = _certificate(tmp_path)
    transport = FakeTransport(handler=EntraService(AUTHORITY))
    credential, redactor, registered = build(transport, auth_method='certificate', client_secret=None, client_certificate_path=str(pem),
                                             client_certificate_password='pem-pass')
    assert credential.get_token() == 'access-token-1'
    form = transport.sent[-1].form
    assert 'client_secret' not in form and form['client_assertion'].startswith('eyJ')
    assert form['client_assertion'] in registered, 'the assertion (bytes from msal) reaches no_log too'
    assert redactor.scrub('pem-pass') == MASK and any('PRIVATE KEY' in value for value in registered)
