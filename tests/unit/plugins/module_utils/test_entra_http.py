# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""msal's http_client (_auth/entra_http.py): secrets registered before sending, refusals kept
as scrubbed fields, Entra retried like Graph, discovery documents cached."""

from __future__ import annotations

import json
from urllib.parse import quote_plus, urlencode

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._auth.entra_http import EntraHttpClient
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.token_cache import DiscoveryCache
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import TransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import MASK, Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline, RetryPolicy

from ansible_collections.msgraph.migrations.tests.unit.fakes import LOGIN, TENANT, FakeTransport, reply

TOKEN_URL = '%s/%s/oauth2/v2.0/token' % (LOGIN, TENANT)
DISCOVERY_URL = '%s/%s/v2.0/.well-known/openid-configuration' % (LOGIN, TENANT)
SECRET = 'Qz8~secret.value+with/odd=chars'
ASSERTION = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhcHAifQ.c2lnbmF0dXJlLXZhbHVl'


def entra(transport, max_retries=3, redactor=None):
    warnings, sleeps = [], []
    http = EntraHttpClient(transport, RetryPolicy(max_retries), redactor or Redactor(), warnings.append, sleep=sleeps.append)
    return http, warnings, sleeps


@pytest.mark.parametrize('data, headers, secret', [
    ({'client_id': 'app', 'client_secret': SECRET, 'grant_type': 'client_credentials'}, {}, SECRET),
    ({'client_id': 'app', 'client_assertion': 'federated-assertion-value'}, {}, 'federated-assertion-value'),
    ({'client_id': 'app', 'client_assertion': b'signed-assertion-bytes'}, {}, 'signed-assertion-bytes'),
    (None, {'X-IDENTITY-HEADER': 'identity-header-value'}, 'identity-header-value'),
    (None, {'secret': 'msi-secret-value'}, 'msi-secret-value'),
    (None, {'Authorization': 'Basic arc-key-value'}, 'Basic arc-key-value'),
], ids=['client_secret', 'client_assertion', 'client_assertion-bytes', 'x-identity-header', 'secret-header', 'authorization'])
def test_secrets_are_registered_before_the_request_is_sent(data, headers, secret):
    """When the transport sees the request, the redactor already masks its secret (and Ansible's no_log has it)."""
    registered = []
    redactor = Redactor(register=registered.append)
    seen_at_send = []

    def handler(sent):
        seen_at_send.append(redactor.scrub('echo: %s' % secret))
        return reply(200, {'ok': True})

    http, _warnings, _sleeps = entra(FakeTransport(handler=handler), redactor=redactor)
    http.post(TOKEN_URL, data=data, headers=headers)
    assert seen_at_send == ['echo: %s' % MASK]
    assert secret in registered


@pytest.mark.parametrize('echo', [
    urlencode({'client_id': 'app', 'client_secret': SECRET, 'grant_type': 'client_credentials'}),
    'client_secret=%s' % SECRET,
    json.dumps({'client_secret': SECRET}),
], ids=['form-encoded', 'raw', 'json'])
def test_a_refusal_that_echoes_the_form_keeps_no_secret(echo):
    """Entra (or a proxy in its place) quoting the request: the refusal's fields are scrubbed."""
    body = {'error': 'invalid_request', 'error_codes': [900144], 'error_description': 'AADSTS900144: bad request body: %s' % echo}
    http, _warnings, _sleeps = entra(FakeTransport(reply(400, body)))
    answer = http.post(TOKEN_URL, data={'client_id': 'app', 'client_secret': SECRET, 'grant_type': 'client_credentials'})
    assert answer.status_code == 400
    refusal = http.last_refusal
    assert refusal.code == 'AADSTS900144' and refusal.oauth_error == 'invalid_request' and refusal.status == 400
    assert refusal.host == 'login.example'
    assert 'Qz8' not in refusal.description and quote_plus(SECRET) not in refusal.description and MASK in refusal.description


def test_an_assertion_echoed_back_is_scrubbed_even_unregistered():
    body = {'error': 'invalid_client', 'error_description': 'assertion %s is expired' % ASSERTION}
    http, _warnings, _sleeps = entra(FakeTransport(reply(401, body)))
    http.post(TOKEN_URL, data={'client_assertion': ASSERTION})
    assert ASSERTION not in http.last_refusal.description and ASSERTION[:20] not in http.last_refusal.description


def test_a_refusal_that_is_not_json_says_it_did_not_come_from_entra():
    page = b'<html>Proxy login required. You sent client_secret=%s</html>' % SECRET.encode()
    http, _warnings, _sleeps = entra(FakeTransport(reply(403, raw=page, headers={'Content-Type': 'text/html; charset=utf-8'})))
    http.post(TOKEN_URL, data={'client_secret': SECRET})
    refusal = http.last_refusal
    assert refusal.description == 'the reply was not JSON (text/html), so it did not come from Entra ID'
    assert refusal.code is None and refusal.oauth_error is None


@pytest.mark.parametrize('body, code, description', [
    ({'error': {'code': 'identity_not_found', 'message': 'Identity not found'}}, 'identity_not_found', 'Identity not found'),
    ({'statusCode': 400, 'message': 'Unable to load the proper Managed Identity.'}, None, 'Unable to load the proper Managed Identity.'),
    ({'error': 'invalid_client', 'error_codes': [True], 'error_description': 'x'}, None, 'x'),
], ids=['imds', 'app-service', 'bool-error-code'])
def test_refusal_shapes_of_the_managed_identity_endpoints(body, code, description):
    http, _warnings, _sleeps = entra(FakeTransport(reply(400, body)))
    http.get('http://127.0.0.1:41741/metadata/identity/oauth2/token', params={'resource': 'https://graph.example'})
    assert http.last_refusal.code == code and http.last_refusal.description == description


def test_throttling_is_retried_with_retry_after_and_a_warning():
    transport = FakeTransport(reply(429, {}, headers={'Retry-After': '2'}), reply(503, {}), reply(200, {'access_token': 'x'}))
    http, warnings, sleeps = entra(transport)
    answer = http.post(TOKEN_URL, data={'client_secret': SECRET})
    assert answer.status_code == 200 and len(transport.sent) == 3
    assert sleeps[0] == 2.0 and len(sleeps) == 2
    assert warnings[0] == 'login.example answered HTTP 429 to the token request; retry 1 of 3 in 2.0 s.'
    assert 'HTTP 503' in warnings[1]


def test_a_connection_failure_is_retried_then_raised_after_max_retries():
    refused = TransportError(TransportError.CONNECT, 'login.example', 'could not connect', may_have_reached=False)
    transport = FakeTransport(refused, refused, refused)
    http, warnings, _sleeps = entra(transport, max_retries=2)
    with pytest.raises(TransportError):
        http.get(DISCOVERY_URL)
    assert len(transport.sent) == 3
    assert warnings[0].startswith('The discovery request to login.example got no reply (connect); retry 1 of 2')


@pytest.mark.parametrize('kind', [TransportError.TLS, TransportError.REDIRECT, TransportError.TOO_LARGE])
def test_failures_that_will_not_change_are_not_retried(kind):
    transport = FakeTransport(TransportError(kind, 'login.example', 'no', may_have_reached=False))
    http, warnings, _sleeps = entra(transport)
    with pytest.raises(TransportError):
        http.post(TOKEN_URL, data={})
    assert len(transport.sent) == 1 and warnings == []


def test_the_last_reply_is_returned_when_retries_run_out():
    transport = FakeTransport(*[reply(503, {'error': 'temporarily_unavailable'})] * 3)
    http, _warnings, _sleeps = entra(transport, max_retries=2)
    assert http.post(TOKEN_URL, data={}).status_code == 503 and len(transport.sent) == 3
    assert http.last_refusal.oauth_error == 'temporarily_unavailable'


def test_the_callers_deadline_bounds_the_retries():
    """A retry that would pass the deadline is not made."""
    clock = [0.0]
    transport = FakeTransport(reply(429, {}, headers={'Retry-After': '10'}))
    http, _warnings, sleeps = entra(transport)
    http.deadline = Deadline(5, clock=lambda: clock[0])
    assert http.post(TOKEN_URL, data={}).status_code == 429 and sleeps == [] and len(transport.sent) == 1


def test_discovery_documents_are_served_from_the_cache(tmp_path):
    """A warm run sends no discovery request; a failed discovery is not cached; other URLs are not cached."""
    document = {'token_endpoint': TOKEN_URL, 'authorization_endpoint': TOKEN_URL.replace('/token', '/authorize')}
    transport = FakeTransport(reply(500, {}), reply(200, document), reply(200, {'other': 1}), reply(200, {'other': 2}))
    http, _warnings, _sleeps = entra(transport, max_retries=0)
    http.discovery = DiscoveryCache(str(tmp_path / 'discovery.json'))
    assert http.get(DISCOVERY_URL).status_code == 500
    assert http.get(DISCOVERY_URL).json() == document
    assert http.get(DISCOVERY_URL).json() == document
    assert len(transport.sent) == 2
    http.get(LOGIN + '/common/other')
    assert http.get(LOGIN + '/common/other').json() == {'other': 2}


def test_close_leaves_the_shared_transport_open():
    transport = FakeTransport()
    http, _warnings, _sleeps = entra(transport)
    http.close()
    assert not transport.closed
