# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A token cache and a discovery cache that never block a run: files of a shape msal cannot use, files over
the size cap, locks, reads and writes that fail, and discovery replies that are not Entra ID's document."""

from __future__ import annotations

import base64
import errno
import json
import os
import time

import msal
import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._auth import token_cache as token_cache_module
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.credentials import create_credential
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.entra_http import EndpointRefused, EntraHttpClient
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.token_cache import (
    CACHE_FILE_MAX_BYTES,
    DiscoveryCache,
    open_token_cache,
    token_cache_problem,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import AuthenticationError, GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import RetryPolicy

from ansible_collections.msgraph.migrations.tests.unit.fakes import LOGIN, TENANT, EntraService, FakeTransport, discovery_document, make_settings, reply

AUTHORITY = '%s/%s' % (LOGIN, TENANT)
MEMORY = 'tokens are kept in memory for this task only'

pytestmark = pytest.mark.skipif(token_cache_module.fcntl is None, reason='the single-flight lock needs POSIX flock')


def run(cache_path, transport, warnings):
    """One module run over ``transport``: the shared store and a client-secret credential."""
    settings = make_settings(token_cache_path=str(cache_path))
    store = open_token_cache(settings, warnings.append)
    redactor = Redactor()
    http = EntraHttpClient(transport, RetryPolicy(0), redactor, warnings.append, sleep=lambda seconds: None)
    return create_credential(settings, http, redactor, store, environ={})


def private_file(tmp_path, content):
    directory = tmp_path / 'cache'
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / 'tokens.json'
    path.write_bytes(content if isinstance(content, bytes) else content.encode('utf-8'))
    os.chmod(str(path), 0o600)
    return path


def token_requests(transport):
    return [sent for sent in transport.sent if sent.method == 'POST']


# ----- a file msal cannot use ---------------------------------------------------------------------

WRONG_SHAPES = [
    '[]', 'null', '42', '"tokens"', 'true',
    '{"AccessToken": []}', '{"AccessToken": null}', '{"RefreshToken": "x"}', '{"Account": 1}',
    '{"AccessToken": {"k": []}}', '{"AccessToken": {"k": "entry"}}',
    '{"AccessToken": {"k": {"secret": "t", "target": "s"}}}',
    '{"AccessToken": {"k": {"secret": "t", "expires_on": "soon", "target": "s"}}}',
    '{"AccessToken": {"k": {"secret": "t", "expires_on": 1.5, "target": "s"}}}',
    '{"AccessToken": {"k": {"secret": 7, "expires_on": "9999999999", "target": "s"}}}',
    '{"AccessToken": {"k": {"secret": "t", "expires_on": "9999999999", "target": ["s"]}}}',
    '{"AccessToken": {"k": {"secret": "t", "expires_on": "9999999999", "target": "s", "client_id": 5}}}',
    '{"AccessToken": {"k": {"secret": "t", "expires_on": "9999999999", "target": "s", "refresh_on": true}}}',
    '{"RefreshToken": {"k": {"target": "s"}}}',
    '[' * 100000,
]


@pytest.mark.parametrize('content', WRONG_SHAPES)
def test_a_cache_msal_cannot_use_is_ignored_with_a_warning_and_rebuilt(tmp_path, content):
    path = private_file(tmp_path, content)
    transport, warnings = FakeTransport(handler=EntraService(AUTHORITY)), []
    assert run(path, transport, warnings).get_token() == 'access-token-1'
    assert len(token_requests(transport)) == 1
    assert len(warnings) == 1 and 'is not a token cache msal can use' in warnings[0] and 'rebuilt with the next token' in warnings[0]
    rebuilt = json.loads(path.read_text())
    assert token_cache_problem(rebuilt) is None and len(rebuilt['AccessToken']) == 1


def test_bytes_that_are_not_text_are_ignored_and_rebuilt(tmp_path):
    path = private_file(tmp_path, b'\xff\xfe\x00garbage')
    warnings = []
    assert run(path, FakeTransport(handler=EntraService(AUTHORITY)), warnings).get_token() == 'access-token-1'
    assert len(warnings) == 1 and 'not UTF-8 text' in warnings[0]
    assert json.loads(path.read_text())['AccessToken']


def test_an_empty_file_is_an_empty_cache_without_a_warning(tmp_path):
    path = private_file(tmp_path, '')
    warnings = []
    assert run(path, FakeTransport(handler=EntraService(AUTHORITY)), warnings).get_token() == 'access-token-1'
    assert warnings == []


def test_the_check_accepts_what_msal_writes_for_apps_and_users(tmp_path):
    """The shape check must never refuse msal's own cache: access, refresh and id tokens, accounts, app metadata."""
    path = private_file(tmp_path, '')
    run(path, FakeTransport(handler=EntraService(AUTHORITY)), []).get_token()
    assert token_cache_problem(json.loads(path.read_text())) is None
    cache = msal.SerializableTokenCache()
    unsigned = '.'.join(part.rstrip('=') for part in (
        'eyJhbGciOiJub25lIn0=', base64.urlsafe_b64encode(json.dumps(
            {'iss': AUTHORITY, 'sub': 'user', 'aud': 'app', 'oid': 'oid', 'tid': 'tid', 'preferred_username': 'u@example'}).encode()).decode(), ''))
    client_info = base64.urlsafe_b64encode(b'{"uid": "uid", "utid": "utid"}').decode()
    cache.add({'client_id': 'app', 'scope': ['User.Read'], 'token_endpoint': AUTHORITY + '/oauth2/v2.0/token',
               'response': {'access_token': 'at', 'refresh_token': 'rt', 'id_token': unsigned, 'client_info': client_info,
                            'expires_in': 3600, 'refresh_in': 1800, 'token_type': 'Bearer', 'foci': '1'}})
    serialized = json.loads(cache.serialize())
    assert set(serialized) >= {'AccessToken', 'RefreshToken', 'IdToken', 'Account', 'AppMetadata'}
    assert token_cache_problem(serialized) is None


def test_unknown_top_level_keys_are_left_alone(tmp_path):
    path = private_file(tmp_path, '{"AccessToken": {}, "SomethingNew": [1, 2]}')
    warnings = []
    assert run(path, FakeTransport(handler=EntraService(AUTHORITY)), warnings).get_token() == 'access-token-1'
    assert warnings == [] and json.loads(path.read_text())['SomethingNew'] == [1, 2]


# ----- the size cap --------------------------------------------------------------------------------

def test_an_oversized_token_cache_is_not_read_and_is_rebuilt_small(tmp_path, monkeypatch):
    """The file holds a good token, but over the cap it is not read: this run gets its own and rewrites the file."""
    path = private_file(tmp_path, '')
    service = EntraService(AUTHORITY)
    run(path, FakeTransport(handler=service), []).get_token()
    content = json.loads(path.read_text())
    content['padding'] = ' ' * 2048
    path.write_text(json.dumps(content))
    monkeypatch.setattr(token_cache_module, 'CACHE_FILE_MAX_BYTES', 1024)
    transport, warnings = FakeTransport(handler=service), []
    assert run(path, transport, warnings).get_token() == 'access-token-2'
    assert len(token_requests(transport)) == 1
    assert any('tokens.json is larger than' in w and 'not read' in w for w in warnings), warnings
    assert 'padding' not in path.read_text()


def test_read_capped_never_reads_past_the_cap(tmp_path):
    path = tmp_path / 'big.json'
    path.write_bytes(b' ' * (CACHE_FILE_MAX_BYTES + 1))
    with pytest.raises(token_cache_module.CacheFileTooLarge):
        token_cache_module.read_capped(str(path))
    path.write_bytes(b'{}')
    assert token_cache_module.read_capped(str(path)) == '{}'


def test_an_oversized_discovery_cache_is_not_read_and_is_rewritten(tmp_path, monkeypatch):
    path = private_file(tmp_path, '')
    service = EntraService(AUTHORITY)
    run(path, FakeTransport(handler=service), []).get_token()
    discovery_file = path.parent / 'oidc-discovery.json'
    content = json.loads(discovery_file.read_text())
    content['padding'] = ' ' * 4096
    discovery_file.write_text(json.dumps(content))
    monkeypatch.setattr(token_cache_module, 'CACHE_FILE_MAX_BYTES', 3000)
    transport, warnings = FakeTransport(handler=service), []
    credential = run(path, transport, warnings)
    credential._drop_cached_tokens()  # pylint: disable=protected-access
    assert credential.get_token() == 'access-token-2'
    assert [sent.method for sent in transport.sent] == ['GET', 'POST'], 'the discovery document was fetched again'
    assert any('oidc-discovery.json is larger than' in w for w in warnings), warnings
    assert 'padding' not in discovery_file.read_text()


# ----- locks, reads and writes that fail -----------------------------------------------------------

def failing(error_number):
    def fail(*_args, **_kwargs):
        raise OSError(error_number, os.strerror(error_number))
    return fail


@pytest.mark.parametrize('error_number', [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_a_write_that_fails_warns_once_and_keeps_the_token_in_memory(tmp_path, monkeypatch, error_number):
    path = private_file(tmp_path, '')
    monkeypatch.setattr(token_cache_module, '_write_private', failing(error_number))
    transport, warnings = FakeTransport(handler=EntraService(AUTHORITY)), []
    credential = run(path, transport, warnings)
    assert credential.get_token() == 'access-token-1'
    assert credential.get_token() == 'access-token-1', 'the token is kept in memory'
    assert credential.get_token(force_refresh=True) == 'access-token-2'
    assert len(token_requests(transport)) == 2
    assert len(warnings) == 1 and MEMORY in warnings[0] and os.strerror(error_number) in warnings[0] and 'refused' not in warnings[0]
    assert path.read_text() == ''


def test_a_read_that_fails_warns_once_and_keeps_the_token_in_memory(tmp_path, monkeypatch):
    path = private_file(tmp_path, '{}')
    monkeypatch.setattr(token_cache_module, 'read_capped', failing(errno.EIO))
    transport, warnings = FakeTransport(handler=EntraService(AUTHORITY)), []
    credential = run(path, transport, warnings)
    assert credential.get_token() == 'access-token-1' and credential.get_token() == 'access-token-1'
    assert len(token_requests(transport)) == 1
    assert len(warnings) == 1 and MEMORY in warnings[0] and 'could not be read' in warnings[0]
    assert path.read_text() == '{}', 'a cache that could not be read is not overwritten'


def test_a_lock_that_cannot_be_created_warns_once_and_keeps_the_token_in_memory(tmp_path, monkeypatch):
    path = private_file(tmp_path, '')
    real_open = os.open

    def no_lock(name, *args, **kwargs):
        if str(name).endswith('.acquire.lock'):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(token_cache_module.os, 'open', no_lock)
    transport, warnings = FakeTransport(handler=EntraService(AUTHORITY)), []
    credential = run(path, transport, warnings)
    assert credential.get_token() == 'access-token-1' and credential.get_token() == 'access-token-1'
    assert len(warnings) == 1 and MEMORY in warnings[0] and 'acquire.lock could not be created' in warnings[0]


def test_a_discovery_cache_that_cannot_be_written_warns_once(tmp_path, monkeypatch):
    path = private_file(tmp_path, '')
    real_write = token_cache_module._write_private  # pylint: disable=protected-access

    def discovery_fails(target, text):
        if target.endswith('oidc-discovery.json'):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(target, text)

    monkeypatch.setattr(token_cache_module, '_write_private', discovery_fails)
    transport, warnings = FakeTransport(handler=EntraService(AUTHORITY)), []
    assert run(path, transport, warnings).get_token() == 'access-token-1'
    assert len(warnings) == 1 and MEMORY in warnings[0] and 'oidc-discovery.json could not be written' in warnings[0]


def test_a_stale_msal_extensions_lock_file_never_blocks_a_write(tmp_path):
    """msal-extensions' own lock file, left behind by a killed process, used to fail every write after 5 s."""
    path = private_file(tmp_path, '')
    (path.parent / 'tokens.json.lockfile').write_text('12345 killed')
    warnings = []
    assert run(path, FakeTransport(handler=EntraService(AUTHORITY)), warnings).get_token() == 'access-token-1'
    assert warnings == [] and json.loads(path.read_text())['AccessToken']


def test_writes_go_through_a_rename_and_leave_no_temporary_file(tmp_path):
    path = private_file(tmp_path, '')
    run(path, FakeTransport(handler=EntraService(AUTHORITY)), []).get_token()
    assert sorted(p.name for p in path.parent.iterdir()) == ['oidc-discovery.json', 'tokens.json', 'tokens.json.acquire.lock']
    assert oct(path.stat().st_mode & 0o777) == '0o600'


def test_a_discovery_cache_without_health_still_raises_for_direct_callers(tmp_path):
    """DiscoveryCache on its own (no CacheHealth) keeps its old contract: a failed write raises."""
    cache = DiscoveryCache(str(tmp_path / 'missing-directory' / 'discovery.json'))
    with pytest.raises(OSError):
        cache.put('https://login.example/t/v2.0/.well-known/openid-configuration', '{}')


# ----- discovery replies that are not Entra ID's document ------------------------------------------

DISCOVERY_URL = AUTHORITY + '/v2.0/.well-known/openid-configuration'
SECRET = 'client-secret-value-1234'


def document(**changes):
    good = discovery_document(AUTHORITY)
    good.update(changes)
    return {k: v for k, v in good.items() if v is not None}


class HostileEntra(EntraService):
    """Answers the first discovery request with ``first`` (then the real document)."""

    def __init__(self, first):
        super().__init__(AUTHORITY)
        self.first = [first]

    def __call__(self, sent):
        if sent.method == 'GET' and self.first:
            return self.first.pop(0)
        return super().__call__(sent)


def credential_over(tmp_path, service, warnings=None, cache=True):
    settings = make_settings(token_cache_path=str(tmp_path / 'cache' / 'tokens.json') if cache else None)
    warnings = [] if warnings is None else warnings
    store = open_token_cache(settings, warnings.append)
    redactor = Redactor()
    transport = FakeTransport(handler=service)
    http = EntraHttpClient(transport, RetryPolicy(0), redactor, warnings.append, sleep=lambda seconds: None)
    return create_credential(settings, http, redactor, store, environ={}), transport


@pytest.mark.parametrize('cache', [True, False], ids=['cached', 'not-cached'])
@pytest.mark.parametrize('first, words', [
    (reply(200, raw=b'<html>Sign in to the guest network</html>', headers={'Content-Type': 'text/html'}), 'not JSON (text/html)'),
    (reply(200, [1, 2]), 'not a JSON object'),
    (reply(200, document(token_endpoint=None)), 'its token_endpoint is not a plain https URL'),
    (reply(200, document(authorization_endpoint=None)), 'its authorization_endpoint is not a plain https URL'),
    (reply(200, document(token_endpoint=AUTHORITY.replace('https:', 'http:') + '/oauth2/v2.0/token')), 'token_endpoint is not a plain https URL'),
    (reply(200, document(token_endpoint='https://evil.example/%s/oauth2/v2.0/token' % TENANT)), 'names https://evil.example, not the authority'),
    (reply(200, document(token_endpoint='https://login.example:8443/%s/oauth2/v2.0/token' % TENANT)), 'names https://login.example:8443'),
    (reply(200, document(token_endpoint='https://user@login.example/%s/oauth2/v2.0/token' % TENANT)), 'token_endpoint is not a plain https URL'),
    (reply(200, document(authorization_endpoint='https://evil.example/authorize')), 'its authorization_endpoint names https://evil.example'),
], ids=['html', 'list', 'no-token-endpoint', 'no-authorize', 'http', 'other-host', 'other-port', 'userinfo', 'authorize-elsewhere'])
def test_a_discovery_reply_that_is_not_usable_fails_clearly_sends_nothing_and_is_not_cached(tmp_path, first, words, cache):
    service = HostileEntra(first)
    credential, transport = credential_over(tmp_path, service, cache=cache)
    with pytest.raises(GraphMigrationsError) as caught:
        credential.get_token()
    assert not isinstance(caught.value, AuthenticationError), 'never blamed on Entra ID'
    message = caught.value.message
    assert words in message and 'OIDC discovery' in message and 'no credential was sent' in message and 'authority_host' in message
    assert caught.value.result['error']['host'] == 'login.example'
    assert [sent.method for sent in transport.sent] == ['GET'] and SECRET not in message
    discovery_file = tmp_path / 'cache' / 'oidc-discovery.json'
    assert not discovery_file.exists()
    again, transport = credential_over(tmp_path, service, cache=cache)
    assert again.get_token() == 'access-token-1'
    assert [sent.method for sent in transport.sent] == ['GET', 'POST']
    assert discovery_file.exists() is cache


def test_the_authority_compares_without_case_and_with_the_default_port(tmp_path):
    service = HostileEntra(reply(200, document(token_endpoint='HTTPS://LOGIN.EXAMPLE:443/%s/oauth2/v2.0/token' % TENANT)))
    credential, transport = credential_over(tmp_path, service)
    service.authority = 'HTTPS://LOGIN.EXAMPLE:443/' + TENANT  # where the document sends the token request
    assert credential.get_token() == 'access-token-1'
    assert [sent.method for sent in transport.sent] == ['GET', 'POST']


@pytest.mark.parametrize('body', [
    '<html>portal</html>', '[]',
    json.dumps(document(token_endpoint='https://evil.example/%s/oauth2/v2.0/token' % TENANT)),
], ids=['html', 'list', 'other-host'])
def test_a_bad_discovery_entry_cached_by_an_older_version_is_ignored_and_replaced(tmp_path, body):
    directory = tmp_path / 'cache'
    directory.mkdir(mode=0o700)
    discovery_file = directory / 'oidc-discovery.json'
    discovery_file.write_text(json.dumps({DISCOVERY_URL: {'body': body, 'saved': time.time()}}))
    os.chmod(str(discovery_file), 0o600)
    credential, transport = credential_over(tmp_path, EntraService(AUTHORITY))
    assert credential.get_token() == 'access-token-1'
    assert [(sent.method, sent.url) for sent in transport.sent] == [('GET', DISCOVERY_URL), ('POST', AUTHORITY + '/oauth2/v2.0/token')]
    assert json.loads(json.loads(discovery_file.read_text())[DISCOVERY_URL]['body']) == discovery_document(AUTHORITY)


def test_a_post_to_another_host_than_the_authority_is_refused_before_anything_is_sent():
    transport, redactor = FakeTransport(), Redactor()
    http = EntraHttpClient(transport, RetryPolicy(0), redactor, [].append)
    http.authority = LOGIN
    with pytest.raises(EndpointRefused) as caught:
        http.post('https://evil.example/t/oauth2/v2.0/token', data={'client_secret': SECRET})
    assert transport.sent == [] and 'token request would go to evil.example, not to the authority https://login.example' in caught.value.message
    assert redactor.scrub(SECRET) == SECRET, 'the secret was not even looked at'


def test_without_an_authority_posts_go_where_msal_says(tmp_path):
    """Managed identity: the endpoint comes from the environment, so no authority is set and nothing is refused."""
    transport = FakeTransport(reply(200, {'ok': True}))
    http = EntraHttpClient(transport, RetryPolicy(0), Redactor(), [].append)
    assert http.post('http://169.254.169.254.example/msi/token', data={}).status_code == 200


def test_the_discovery_cache_drops_expired_entries_and_keeps_no_huge_document(tmp_path, monkeypatch):
    path = tmp_path / 'discovery.json'
    cache = DiscoveryCache(str(path))
    cache.put('https://login.example/old/v2.0/.well-known/openid-configuration', '{"a": 1}')
    later = time.time() + token_cache_module.DISCOVERY_MAX_AGE_SECONDS + 1
    monkeypatch.setattr(token_cache_module.time, 'time', lambda: later)
    cache.put(DISCOVERY_URL, '{"b": 2}')
    assert list(json.loads(path.read_text())) == [DISCOVERY_URL]
    cache.put('https://login.example/big/v2.0/.well-known/openid-configuration', ' ' * (token_cache_module.DISCOVERY_MAX_CACHED_BYTES + 1))
    assert list(json.loads(path.read_text())) == [DISCOVERY_URL]
