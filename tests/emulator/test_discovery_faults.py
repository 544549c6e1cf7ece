# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Discovery faults: a real document rewritten to name another host, and a captive-portal page answered 200."""

from __future__ import annotations

import pytest

from emu_helpers import TENANT
from msgraph_emulator import FaultError

DISCOVERY = '/%s/v2.0/.well-known/openid-configuration' % TENANT
ELSEWHERE = 'https://127.0.0.1:9/%s/oauth2/v2.0/token' % TENANT


def test_rewrite_discovery_sets_and_removes_fields_of_the_real_document(emu, http):
    real = http.get(emu.url + DISCOVERY).json()
    emu.add_fault({'match': {'kind': 'oidc'}, 'action': 'rewrite_discovery',
                   'discovery': {'token_endpoint': ELSEWHERE, 'device_authorization_endpoint': None}})
    rewritten = http.get(emu.url + DISCOVERY)
    assert rewritten.status_code == 200 and rewritten.headers['Content-Type'].startswith('application/json')
    document = rewritten.json()
    assert document['token_endpoint'] == ELSEWHERE and 'device_authorization_endpoint' not in document
    changed = ('token_endpoint', 'device_authorization_endpoint')
    assert {k: v for k, v in document.items() if k not in changed} == {k: v for k, v in real.items() if k not in changed}
    entry = emu.requests()[-1]
    assert entry['kind'] == 'oidc' and entry['status'] == 200 and entry['fault'] == 'rewrite_discovery device_authorization_endpoint,token_endpoint'
    assert http.get(emu.url + DISCOVERY).json() == real, 'times defaults to 1'


def test_rewrite_discovery_leaves_other_replies_alone(emu, http):
    emu.add_fault({'match': {'kind': 'oidc'}, 'action': 'rewrite_discovery', 'discovery': {'token_endpoint': ELSEWHERE}, 'times': 0})
    assert http.get(emu.url + '/%s/discovery/v2.0/keys' % TENANT).json() == {'keys': []}
    unknown = http.get(emu.url + '/nowhere.example/v2.0/.well-known/openid-configuration')
    assert unknown.status_code == 400 and unknown.json()['error'] == 'invalid_tenant'


def test_a_captive_portal_page_answered_200(emu, http):
    emu.add_fault({'match': {'kind': 'oidc'}, 'status': 200, 'body': '<html><body>Sign in to the guest network</body></html>',
                   'content_type': 'text/html'})
    page = http.get(emu.url + DISCOVERY)
    assert page.status_code == 200 and page.headers['Content-Type'] == 'text/html' and page.text.startswith('<html>')
    assert http.get(emu.url + DISCOVERY).json()['token_endpoint'].startswith(emu.url)


@pytest.mark.parametrize('rule, words', [
    ({'match': {'kind': 'oidc'}, 'action': 'rewrite_discovery'}, 'needs discovery'),
    ({'match': {'kind': 'oidc'}, 'action': 'rewrite_discovery', 'discovery': {}}, 'needs discovery'),
    ({'match': {'kind': 'oidc'}, 'action': 'rewrite_discovery', 'discovery': ['token_endpoint']}, 'needs discovery'),
    ({'action': 'rewrite_discovery', 'discovery': {'token_endpoint': ELSEWHERE}}, 'needs match.kind: oidc'),
    ({'match': {'kind': 'oidc'}, 'action': 'rewrite_discovery', 'discovery': {'a': 1}, 'status': 200}, 'status and body are not allowed'),
    ({'match': {'kind': 'oidc'}, 'status': 200, 'discovery': {'a': 1}}, 'discovery is only for action: rewrite_discovery'),
])
def test_bad_rewrite_rules_are_refused(emu, rule, words):
    with pytest.raises(FaultError, match=words):
        emu.add_fault(rule)
