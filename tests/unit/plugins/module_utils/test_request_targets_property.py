# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Property: whatever job_id, task_id, graph_endpoint and authority_host a user gives, every request
goes exactly where the user's values say, in canonical form (scheme, host, port, path), or the values
are refused with OptionError before any request.

Each example runs the real path: id and settings validation, a real msal ConfidentialClientApplication
(client secret) through EntraHttpClient, and a GraphClient cancel POST, all over one recording fake
transport. The expected URLs come from an oracle written independently of _core/settings.py.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._auth.credentials import create_credential
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.entra_http import EntraHttpClient
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, OptionError
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._core.settings import GraphSettings
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import GraphClient
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import RetryPolicy
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import task_cancel_path, validate_guid

from ansible_collections.msgraph.migrations.tests.unit.fakes import (
    CLIENT_ID,
    TENANT,
    FakeTransport,
    discovery_document,
    module_params,
    reply,
    token_reply,
)

hypothesis = pytest.importorskip('hypothesis')
st = pytest.importorskip('hypothesis.strategies')
pytest.importorskip('hypothesis.configuration')

EXAMPLES = 1000
DEFAULT_GRAPH = 'https://graph.microsoft.com'
DEFAULT_AUTHORITY = 'https://login.microsoftonline.com'

# ----- the oracle: what a value means, written without urllib --------------------------------

_HEX = frozenset('0123456789abcdefABCDEF')
_ORIGIN = re.compile(r'[Hh][Tt][Tt][Pp][Ss]://(?:(?P<name>[A-Za-z0-9.-]+)|\[(?P<v6>[0-9A-Fa-f:.]+)\])(?::(?P<port>[0-9]*))?/?')
_LABEL = re.compile(r'[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?')


def expected_guid(value):
    """The GUID (lower case) when ``value`` is 8-4-4-4-12 hex digits and nothing else, else None."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    for index, char in enumerate(value):
        if (char != '-') if index in (8, 13, 18, 23) else (char not in _HEX):
            return None
    return value.lower()


def expected_origin(value, default, bare_host_allowed):
    """``https://host[:port]`` in canonical form for a user's value, or None when it must be refused."""
    if value is None or value == '':
        return default
    text = value.strip()
    if not text or not text.isascii():
        return None
    if bare_host_allowed and '://' not in text:
        text = 'https://' + text
    match = _ORIGIN.fullmatch(text)
    if match is None:
        return None
    if match.group('name') is not None:
        name = match.group('name').lower()
        name = name[:-1] if name.endswith('.') else name
        if not all(_LABEL.fullmatch(label) for label in name.split('.')):
            return None
        host = name
    else:
        try:
            host = '[%s]' % ipaddress.IPv6Address(match.group('v6')).compressed
        except ValueError:
            return None
    port = int(match.group('port')) if match.group('port') else None
    if port is not None and not 0 < port <= 65535:
        return None
    return 'https://%s%s' % (host, ':%d' % port if port not in (None, 443) else '')


# ----- strategies -----------------------------------------------------------------------------

INJECTIONS = ['/', '..', '../', '%2f', '%2F', '%2e%2e', '?', '?x=1', '#', ' ', '\t', '\n', '\r\n', '\x00', '%', '\\', '@', ':', ';',
              '\u0430', '\uff10', '\u00e9', '\u212a', '\u2028', '\u00a0', '%0a', '{', '}']


def cased(strategy):
    return st.tuples(strategy, st.sampled_from(['lower', 'upper', 'mixed'])).map(
        lambda pair: pair[0].upper() if pair[1] == 'upper' else pair[0].swapcase() if pair[1] == 'mixed' else pair[0])


@st.composite
def injected(draw, base):
    value = draw(base)
    position = draw(st.integers(0, len(value)))
    return value[:position] + draw(st.sampled_from(INJECTIONS)) + value[position:]


GUIDS = cased(st.uuids().map(str))
IDS = st.one_of(GUIDS, GUIDS, injected(GUIDS), st.text(max_size=40), GUIDS.map(lambda guid: ' %s ' % guid), GUIDS.map(lambda guid: guid[1:]))

NAMES = st.from_regex(r'[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?){0,3}\.?', fullmatch=True)
ODD_HOSTS = ['graph.microsoft.com', 'login.microsoftonline.com', 'localhost', '127.0.0.1', 'GRAPH.Example.', 'xn--bcher-kva.example',
             '-a.example', 'a-.example', 'a..example', '.example', 'a_b.example', 'ex ample', 'b\u00fccher.example', '\u212aelvin.example',
             '[::1]', '[0:0::1]', '[::ffff:127.0.0.1]', '[fe80::1%25eth0]', '[fe80::1%eth0]', '[::1', '::1', '[::g]', '[v1.fe]',
             '[::1]evil.example', '[2001:db8::1]x', '1.2.3.4.5', '0x7f.1', '', '%2e', 'host%2f', 'a' * 64 + '.example', 'a' * 63 + '.example',
             'evil.example#@graph.microsoft.com', 'graph.microsoft.com\\@evil.example']
HOSTS = st.one_of(cased(NAMES), st.sampled_from(ODD_HOSTS), st.ip_addresses(v=6).map(lambda address: '[%s]' % address),
                  st.ip_addresses(v=4).map(str), st.text(max_size=15))
SCHEMES = st.sampled_from(['https://', 'https://', 'https://', 'HTTPS://', 'hTtPs://', 'http://', 'ftp://', 'file://', 'javascript:',
                           '//', '', 'https:/', 'https:', 'https:///'])
USERINFO = st.sampled_from(['', '', '', '', 'user@', 'user:secret@', ':@', 'graph.microsoft.com@'])
PORTS = st.one_of(st.sampled_from(['', '', '', ':443', ':8443', ':0', ':65535', ':65536', ':', ':+1', ':08443', ':x', ':-1', ':\u0661', ':1_0']),
                  st.integers(0, 70000).map(lambda port: ':%d' % port))
TAILS = st.sampled_from(['', '', '', '', '/', '//', '/v1.0', '/tenant', '/..', '/%2e%2e', '/?', '?x=1', '#frag', '?', '#', ';params', '\\x',
                         '/.well-known/openid-configuration'])
PADS = st.sampled_from(['', '', '', ' ', '\n', '\t', '\u00a0', ' \r\n'])


@st.composite
def url_values(draw):
    pad = draw(PADS)
    return pad + draw(SCHEMES) + draw(USERINFO) + draw(HOSTS) + draw(PORTS) + draw(TAILS) + draw(PADS)


GOOD_HOSTS = st.one_of(cased(NAMES), st.ip_addresses(v=6).map(lambda address: '[%s]' % address), st.ip_addresses(v=4).map(str))
GOOD_CORES = st.tuples(st.sampled_from(['https://', 'HTTPS://']), GOOD_HOSTS, st.sampled_from(['', ':443', ':8443', ':1', ':65535', ':']),
                       st.sampled_from(['', '/'])).map(''.join)
# Values that must be accepted: most examples change one or two fields from these, so the request path runs often.
GOOD_URLS = st.one_of(st.tuples(PADS, GOOD_CORES, PADS).map(''.join), st.sampled_from([None, '']))
# Something right after an IPv6 literal's closing bracket (urlsplit drops it without a word).
AFTER_BRACKET = st.tuples(st.ip_addresses(v=6), st.sampled_from(['evil.example', 'x', '.', '-', '@evil.example', 'a:1', ']'])).map(
    lambda pair: 'https://[%s]%s' % pair)
URLS = st.one_of(url_values(), injected(url_values()), injected(GOOD_CORES), injected(GOOD_CORES), AFTER_BRACKET, st.text(max_size=60),
                 st.sampled_from([None, '', '   ']))
FIELDS = ('job_id', 'task_id', 'graph_endpoint', 'authority_host')


@st.composite
def user_values(draw):
    """The four values: each field the example perturbs comes from the wide strategies, the others are well-formed."""
    perturbed = draw(st.sets(st.sampled_from(FIELDS), max_size=len(FIELDS)))
    values = {}
    for field in FIELDS:
        wide, good = (IDS, GUIDS) if field.endswith('_id') else (URLS, GOOD_URLS)
        values[field] = draw(wide if field in perturbed else good)
    return values


# ----- the run ---------------------------------------------------------------------------------


class FakeEntraAndGraph:
    """Answers the expected discovery, token and cancel URLs; anything else gets a 404 (and fails the assertions)."""

    def __init__(self, authority, graph_root, cancel_path):
        self.discovery = authority + '/v2.0/.well-known/openid-configuration'
        self.token = authority + '/oauth2/v2.0/token'
        self.authority = authority
        self.cancel = graph_root + cancel_path

    def __call__(self, sent):
        if sent.method == 'GET' and sent.url == self.discovery:
            return reply(200, discovery_document(self.authority), url=sent.url)
        if sent.method == 'POST' and sent.url == self.token:
            return token_reply()
        if sent.method == 'POST' and sent.url == self.cancel:
            return reply(202, {'status': 'Accepted'})
        return reply(404, {'error': {'code': 'NotFound', 'message': sent.url}})


def prepare_run(job_id, task_id, graph_endpoint, authority_host, transport):
    """Everything a run does before its first request: validate the ids and settings, build the credential and the client."""
    job = validate_guid('job_id', job_id)
    task = validate_guid('task_id', task_id)
    settings = GraphSettings.from_params(module_params(graph_endpoint=graph_endpoint, authority_host=authority_host, tenant_id=TENANT,
                                                       client_id=CLIENT_ID, client_secret='client-secret-value-1234',
                                                       auth_method='client_secret', token_cache=False), environ={})
    redactor = Redactor()
    http = EntraHttpClient(transport, RetryPolicy(0), redactor, lambda message: None, sleep=lambda seconds: None)
    credential = create_credential(settings, http, redactor, None, environ={})
    client = GraphClient(settings, credential, transport, redactor, lambda message: None, sleep=lambda seconds: None)
    return job, task, settings, client


def test_every_request_goes_exactly_where_the_users_values_say(tmp_path):
    stats = Counter()

    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=[hypothesis.HealthCheck.too_slow, hypothesis.HealthCheck.data_too_large,
                                                hypothesis.HealthCheck.filter_too_much])
    @hypothesis.example(values=dict(job_id='ADD14989-2B21-4001-81BD-A18B0BAC1DEA', task_id='6a88de8d-7027-44c1-8674-03f826aa1704',
                                    graph_endpoint=' HTTPS://Graph.Example.:443/ ', authority_host='login.example:8443'))
    @hypothesis.example(values=dict(job_id='add14989-2b21-4001-81bd-a18b0bac1dea', task_id='6a88de8d-7027-44c1-8674-03f826aa1704',
                                    graph_endpoint='https://[0:0::1]:8443', authority_host='https://[::1]evil.example'))
    @hypothesis.example(values=dict(job_id='add14989-2b21-4001-81bd-a18b0bac1dea/..', task_id='6a88de8d-7027-44c1-8674-03f826aa1704',
                                    graph_endpoint=None, authority_host=None))
    @hypothesis.example(values=dict(job_id='add14989-2b21-4001-81bd-a18b0bac1dea', task_id='6a88de8d-7027-44c1-8674-03f826aa1704',
                                    graph_endpoint='https://gra\tph.example', authority_host='\u212aelvin.example'))
    @hypothesis.given(values=user_values())
    def check(values):
        """One run: refused before any request, or every request exactly on the canonical origin and path."""
        job_id, task_id, graph_endpoint, authority_host = (values[field] for field in FIELDS)
        expected = dict(job=expected_guid(job_id), task=expected_guid(task_id),
                        graph=expected_origin(graph_endpoint, DEFAULT_GRAPH, bare_host_allowed=False),
                        authority=expected_origin(authority_host, DEFAULT_AUTHORITY, bare_host_allowed=True))
        transport = FakeTransport(handler=lambda sent: reply(599, {}))
        try:
            job, task, settings, client = prepare_run(job_id, task_id, graph_endpoint, authority_host, transport)
        except OptionError as exc:
            stats['refused'] += 1
            assert None in expected.values(), 'refused %r although it means %r: %s' % (
                (job_id, task_id, graph_endpoint, authority_host), expected, exc.message)
            assert transport.sent == [], 'a request was sent before the values were refused'
            return
        stats['accepted'] += 1
        assert None not in expected.values(), 'accepted %r, which must be refused: %r' % ((job_id, task_id, graph_endpoint, authority_host),
                                                                                          expected)
        assert (job, task, settings.graph_endpoint, settings.authority_host) == (
            expected['job'], expected['task'], expected['graph'], expected['authority'])
        transport.handler = FakeEntraAndGraph('%s/%s' % (expected['authority'], TENANT), expected['graph'] + '/v1.0',
                                              task_cancel_path(expected['job'], expected['task']))
        try:
            answer = client.request('POST', task_cancel_path(job, task))
        except GraphMigrationsError as exc:  # a request went elsewhere and got the fake's 404: the URLs below say where
            answer = exc
        authority = '%s/%s' % (expected['authority'], TENANT)
        assert transport.urls == [
            authority + '/v2.0/.well-known/openid-configuration',
            authority + '/oauth2/v2.0/token',
            '%s/v1.0/solutions/migrations/crossTenantMigrationJobs/%s/users/%s/cancel' % (expected['graph'], expected['job'], expected['task']),
        ]
        assert [sent.method for sent in transport.sent] == ['GET', 'POST', 'POST']
        assert transport.sent[1].form['scope'] == expected['graph'] + '/.default'
        assert transport.sent[2].headers['Authorization'] == 'Bearer access-token-1'
        assert getattr(answer, 'status', None) == 202, answer

    # Hypothesis keeps a cache of constants under its home directory: not in the work tree.
    hypothesis.configuration.set_hypothesis_home_dir(str(tmp_path / 'hypothesis'))
    try:
        check()
    finally:
        hypothesis.configuration.set_hypothesis_home_dir(None)
    print('property examples: %s' % dict(stats))
    assert stats['accepted'] >= EXAMPLES // 10 and stats['refused'] >= EXAMPLES // 10, stats
