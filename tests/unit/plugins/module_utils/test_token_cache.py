# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shared token cache on disk (_auth/token_cache.py): private files, one token request per play,
no discovery on a warm run, tolerant of damage, and a lock that never outlasts the deadline."""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._auth import token_cache as token_cache_module
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.credentials import create_credential
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.entra_http import EntraHttpClient
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.token_cache import DiscoveryCache, TokenStore, open_token_cache
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline, RetryPolicy

from ansible_collections.msgraph.migrations.tests.unit.fakes import LOGIN, TENANT, EntraService, FakeTransport, make_settings

AUTHORITY = '%s/%s' % (LOGIN, TENANT)
SECRET = 'client-secret-value-1234'

pytestmark = pytest.mark.skipif(token_cache_module.fcntl is None, reason='the single-flight lock needs POSIX flock')


def run(cache_path, transport, warnings=None, **settings):
    """One module run: settings, the shared store, a client-secret credential over ``transport``."""
    warnings = [] if warnings is None else warnings
    settings = make_settings(token_cache_path=str(cache_path), **settings)
    store = open_token_cache(settings, warnings.append)
    redactor = Redactor()
    http = EntraHttpClient(transport, RetryPolicy(0), redactor, warnings.append, sleep=lambda seconds: None)
    return create_credential(settings, http, redactor, store, environ={}), store


def mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def test_the_cache_is_private_and_holds_no_secret(tmp_path):
    cache = tmp_path / 'cache' / 'msal-token-cache.json'
    credential, store = run(cache, FakeTransport(handler=EntraService(AUTHORITY)))
    assert store is not None and mode(cache.parent) == 0o700
    assert credential.get_token() == 'access-token-1'
    assert mode(cache) == 0o600 and mode(cache.parent / 'oidc-discovery.json') == 0o600
    text = cache.read_text()
    assert 'access-token-1' in text and SECRET not in text


def test_a_second_run_sends_no_request_at_all(tmp_path):
    """The token and the discovery document both come from disk: 20 forks make one token request."""
    cache = tmp_path / 'cache' / 'tokens.json'
    service = EntraService(AUTHORITY)
    first = FakeTransport(handler=service)
    run(cache, first)[0].get_token()
    second = FakeTransport(handler=service)
    assert run(cache, second)[0].get_token() == 'access-token-1'
    assert len(first.sent) == 2 and second.sent == []


def test_force_refresh_drops_only_this_apps_token(tmp_path):
    """A shared cache file holds other apps' tokens too: refreshing one app leaves the others."""
    cache = tmp_path / 'cache' / 'tokens.json'
    service = EntraService(AUTHORITY)
    run(cache, FakeTransport(handler=service))[0].get_token()
    other_app = dict(client_id='99999999-8888-7777-6666-555555555555')
    run(cache, FakeTransport(handler=service), **other_app)[0].get_token()
    refreshing = FakeTransport(handler=service)
    assert run(cache, refreshing)[0].get_token(force_refresh=True) == 'access-token-3'
    assert [sent.method for sent in refreshing.sent] == ['POST']
    untouched = FakeTransport(handler=service)
    assert run(cache, untouched, **other_app)[0].get_token() == 'access-token-2' and untouched.sent == []


@pytest.mark.parametrize('damage', [b'{"AccessToken": {', b'\x00\xff garbage', b''], ids=['truncated', 'binary', 'empty'])
def test_a_damaged_cache_is_rebuilt_not_fatal(tmp_path, damage):
    cache = tmp_path / 'cache' / 'tokens.json'
    cache.parent.mkdir(mode=0o700)
    cache.write_bytes(damage)
    os.chmod(str(cache), 0o600)
    credential, _store = run(cache, FakeTransport(handler=EntraService(AUTHORITY)))
    assert credential.get_token() == 'access-token-1'
    assert 'access-token-1' in json.dumps(json.loads(cache.read_text()))


@pytest.mark.parametrize('setup, words', [
    (lambda directory, cache: os.chmod(str(directory), 0o755), 'can be read or written by others (mode 755; it must be 0700)'),
    (lambda directory, cache: (cache.write_text('{}'), os.chmod(str(cache), 0o644)), 'can be read or written by others (mode 644'),
    (lambda directory, cache: os.symlink(str(directory / 'elsewhere.json'), str(cache)), 'is a symbolic link'),
    (lambda directory, cache: cache.mkdir(), 'is not a regular file'),
], ids=['open-directory', 'open-file', 'symlink', 'not-a-file'])
def test_an_unsafe_cache_is_not_used_and_says_why(tmp_path, setup, words):
    directory = tmp_path / 'cache'
    directory.mkdir(mode=0o700)
    cache = directory / 'tokens.json'
    setup(directory, cache)
    warnings = []
    assert open_token_cache(make_settings(token_cache_path=str(cache)), warnings.append) is None
    assert len(warnings) == 1 and words in warnings[0] and 'tokens are kept in memory for this task only' in warnings[0]


def test_no_cache_for_a_given_access_token_or_when_turned_off(tmp_path):
    cache = str(tmp_path / 'cache' / 'tokens.json')
    assert open_token_cache(make_settings(token_cache_path=cache, auth_method='access_token', access_token='t'), list.append) is None
    assert open_token_cache(make_settings(token_cache_path=cache, auth_method='auto', access_token='t'), list.append) is None
    assert open_token_cache(make_settings(token_cache_path=None), list.append) is None
    assert not os.path.exists(cache)


def test_without_msal_extensions_tokens_stay_in_memory(tmp_path, monkeypatch):
    def missing(path, health=None):
        raise ImportError('No module named msal_extensions')

    monkeypatch.setattr(token_cache_module, '_persisted_cache', missing)
    warnings = []
    assert open_token_cache(make_settings(token_cache_path=str(tmp_path / 'c' / 't.json')), warnings.append) is None
    assert warnings == ['The token cache needs the Python library msal-extensions; tokens are kept in memory for this task only.']


def test_discovery_entries_expire_after_a_day(tmp_path, monkeypatch):
    path = tmp_path / 'discovery.json'
    discovery = DiscoveryCache(str(path))
    discovery.put('https://login.example/t/v2.0/.well-known/openid-configuration', '{"a": 1}')
    assert discovery.get('https://login.example/t/v2.0/.well-known/openid-configuration') == '{"a": 1}'
    assert discovery.get('https://login.example/other') is None
    later = time.time() + token_cache_module.DISCOVERY_MAX_AGE_SECONDS + 1
    monkeypatch.setattr(token_cache_module.time, 'time', lambda: later)
    assert discovery.get('https://login.example/t/v2.0/.well-known/openid-configuration') is None
    path.write_text('not json')
    assert discovery.get('https://login.example/t/v2.0/.well-known/openid-configuration') is None


def test_single_flight_makes_others_wait_until_the_holder_is_done(tmp_path):
    """While one process gets a token, the next waits for it (and then finds its token)."""
    lock = str(tmp_path / 'acquire.lock')
    holder, waiter = TokenStore(None, None, lock), TokenStore(None, None, lock)
    events = []
    holding, release = threading.Event(), threading.Event()

    def hold():
        with holder.single_flight():
            events.append('holder in')
            holding.set()
            release.wait(10)
            events.append('holder out')

    def wait():
        with waiter.single_flight():
            events.append('waiter in')

    first = threading.Thread(target=hold)
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=wait)
    second.start()
    second.join(0.5)
    assert events == ['holder in'], 'the waiter got in while the lock was held'
    release.set()
    first.join(10)
    second.join(10)
    assert events == ['holder in', 'holder out', 'waiter in']


def test_single_flight_never_waits_past_the_deadline(tmp_path):
    """A holder that never lets go: the waiter goes on without the lock when its deadline runs out."""
    lock = str(tmp_path / 'acquire.lock')
    holder, waiter = TokenStore(None, None, lock), TokenStore(None, None, lock)
    release = threading.Event()
    holding = threading.Event()

    def hold():
        with holder.single_flight():
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        entered = []
        with waiter.single_flight(Deadline(0.3)):
            entered.append(True)
        assert entered == [True] and thread.is_alive()
    finally:
        release.set()
        thread.join(10)
