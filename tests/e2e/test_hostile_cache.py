# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The token cache and the discovery cache never block a run: a cache file of the wrong shape, a cache that cannot
be written, an oversized cache file, a captive-portal discovery page and a discovery document naming another host.

Each test is a real ansible-playbook run against the emulator; docs/docsite/rst/guide_faults.rst ("Token and
discovery caches") lists what the modules promise.
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import SECRET, TENANT
from test_faults import Listener

CACHE_DIR = ('cache', 'msgraph.migrations')
TOKEN_FILE = 'msal-token-cache.json'
DISCOVERY_FILE = 'oidc-discovery.json'
# Above the documented cap of 4 MiB for either cache file.
OVERSIZE = 4 * 1024 * 1024 + 1


@pytest.fixture
def listener():
    target = Listener()
    yield target
    target.close()


def cache_dir(tmp_path):
    directory = tmp_path.joinpath(*CACHE_DIR)
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    return directory


def seed(path, text):
    path.write_text(text)
    os.chmod(str(path), 0o600)


def warnings_of(run):
    return run.result().get('warnings') or []


@pytest.mark.parametrize('content', [
    '[]', 'null', '42', '{"AccessToken": []}', '{"AccessToken": {"k": []}}',
    '{"AccessToken": {"k": {"credential_type": "AccessToken", "secret": "x", "expires_on": "soon", "target": "t"}}}',
], ids=['list', 'null', 'number', 'list-of-tokens', 'entry-list', 'expiry-not-a-number'])
def test_a_cache_file_msal_cannot_use_is_ignored_and_rebuilt(harness, tmp_path, content):
    cache = cache_dir(tmp_path) / TOKEN_FILE
    seed(cache, content)
    run = harness.play([harness.cancel_task()])
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True
    assert len(harness.requests(kind='token')) == 1
    assert any('is not a token cache msal can use' in w and 'rebuilt' in w for w in warnings_of(run)), warnings_of(run)
    rebuilt = json.loads(cache.read_text())
    assert isinstance(rebuilt, dict) and len(rebuilt['AccessToken']) == 1 and SECRET not in cache.read_text()
    again = harness.play([harness.cancel_task()])
    assert again.rc == 0 and len(harness.requests(kind='token')) == 1, 'the rebuilt cache serves the next run'
    assert not any('token cache' in w for w in warnings_of(again))


@pytest.mark.skipif(not os.path.isdir('/proc/self/fd'), reason='needs Linux /proc')
def test_a_cache_that_cannot_be_written_warns_and_keeps_the_token_in_memory(harness):
    """/proc/self/fd is a private (0500) directory nobody can create files in, not even root."""
    run = harness.play([harness.cancel_task(token_cache_path='/proc/self/fd/msal-token-cache.json')])
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True
    memory = [w for w in warnings_of(run) if 'tokens are kept in memory for this task only' in w]
    assert len(memory) == 1 and '/proc/self/fd' in memory[0], warnings_of(run)
    assert 'refused' not in run.output and 'OSError' not in run.output
    assert len(harness.requests(kind='token')) == 1


@pytest.mark.parametrize('padded', [TOKEN_FILE, DISCOVERY_FILE])
def test_an_oversized_cache_file_is_not_loaded(harness, tmp_path, padded):
    """A cache file over the cap is not read, even though it holds a good token and document: the run gets its own."""
    warm = harness.play([harness.cancel_task()])
    assert warm.rc == 0, warm.output
    path = cache_dir(tmp_path) / padded
    content = json.loads(path.read_text())
    content['padding'] = ' ' * OVERSIZE
    seed(path, json.dumps(content))
    harness.emu.clear_requests()
    run = harness.play([harness.cancel_task(task_id='0c1f7a2e-5d4b-4f8e-9a3c-2b6d8e1f4a70')])
    assert run.rc == 0, run.output
    assert len(harness.requests(kind='token' if padded == TOKEN_FILE else 'oidc')) == 1, 'the oversized file was not loaded'
    assert any(padded in w and 'larger than' in w for w in warnings_of(run)), warnings_of(run)
    assert path.stat().st_size < 1024 * 1024, 'rebuilt small with the next write'


def test_a_captive_portal_discovery_page_fails_clearly_and_is_not_cached(harness, tmp_path):
    harness.emu.add_fault(dict(match={'kind': 'oidc'}, status=200, content_type='text/html',
                               body='<html><body>Sign in to the guest network</body></html>'))
    run = harness.play([harness.cancel_task()])
    assert run.rc != 0
    result = run.result()
    assert 'discovery' in result['msg'] and 'not JSON (text/html)' in result['msg'], result['msg']
    assert result['changed'] is False and harness.requests(kind='token') == [] and harness.requests(kind='graph') == []
    discovery = tmp_path.joinpath(*CACHE_DIR) / DISCOVERY_FILE
    assert not discovery.exists() or 'guest network' not in discovery.read_text()
    again = harness.play([harness.cancel_task()])
    assert again.rc == 0, again.output
    assert again.result()['changed'] is True
    assert [e['status'] for e in harness.requests(kind='oidc')] == [200, 200], 'the second run asked again'
    assert len(harness.requests(kind='token')) == 1


def test_a_discovery_document_naming_another_host_is_refused_and_not_cached(harness, listener):
    elsewhere = '127.0.0.1:%d' % listener.port
    harness.emu.add_fault(dict(match={'kind': 'oidc'}, action='rewrite_discovery',
                               discovery={'token_endpoint': 'https://%s/%s/oauth2/v2.0/token' % (elsewhere, TENANT)}))
    run = harness.play([harness.cancel_task()], args=('-vvvv',))
    assert run.rc != 0
    result = run.result()
    assert 'token_endpoint' in result['msg'] and elsewhere in result['msg'] and 'authority_host' in result['msg'], result['msg']
    assert result['changed'] is False
    assert listener.connections == 0, 'nothing reached the host the document named'
    assert harness.requests(kind='token') == [] and harness.requests(kind='graph') == []
    assert SECRET not in run.output
    again = harness.play([harness.cancel_task()])
    assert again.rc == 0, again.output
    assert len(harness.requests(kind='oidc')) == 2 and len(harness.requests(kind='token')) == 1
    assert listener.connections == 0
