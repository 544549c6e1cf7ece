# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection settings (_core/settings.py) and the shared options behind them (_ansible/argspec.py)."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.module_utils.common.parameters import AnsibleFallbackNotFound

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.argspec import (
    REJECTED_ENVIRONMENT,
    check_wait_options,
    cloud_env,
    graph_argument_spec,
    non_empty_env,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._core import settings as settings_module
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import OptionError
from ansible_collections.msgraph.migrations.plugins.module_utils._core.settings import (
    GraphSettings,
    cloud_from_name,
    host_of,
    option_and_environment,
    parse_base_url,
)

from ansible_collections.msgraph.migrations.tests.unit.fakes import module_params as params

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def test_version_matches_galaxy_yml():
    """The User-Agent's version is the collection's."""
    with open(os.path.join(COLLECTION_ROOT, 'galaxy.yml'), encoding='utf-8') as galaxy:
        assert yaml.safe_load(galaxy)['version'] == settings_module.COLLECTION_VERSION


def test_non_empty_env_skips_empty_values(monkeypatch):
    """AWX renders unset optional fields as empty strings: they do not count."""
    monkeypatch.setenv('AZURE_TENANT_ID', ' ')
    monkeypatch.setenv('AZURE_TENANT', 'tenant-from-awx')
    assert non_empty_env('AZURE_TENANT_ID', 'AZURE_TENANT') == 'tenant-from-awx'
    monkeypatch.delenv('AZURE_TENANT')
    with pytest.raises(AnsibleFallbackNotFound):
        non_empty_env('AZURE_TENANT_ID', 'AZURE_TENANT')


@pytest.mark.parametrize('value, expected', [('AzureCloud', 'global'), ('AzureUSGovernment', 'usgov'), ('azureusgovernmentcloud', 'usgov'),
                                             ('AzureChinaCloud', 'china'), ('usgov_dod', 'usgov_dod'), (' GLOBAL ', 'global')])
def test_cloud_env_accepts_our_and_azure_names_in_any_case(monkeypatch, value, expected):
    monkeypatch.setenv('AZURE_CLOUD_ENVIRONMENT', value)
    assert cloud_env('AZURE_CLOUD_ENVIRONMENT') == expected
    assert cloud_from_name(value) == expected


def test_cloud_env_remembers_a_value_it_cannot_use(monkeypatch):
    """An unknown cloud name is not silently dropped: the module base reports it by variable name."""
    graph_argument_spec()  # starts a module run: forgets earlier rejections
    monkeypatch.setenv('AZURE_CLOUD_ENVIRONMENT', 'AzureGermanCloud')
    with pytest.raises(AnsibleFallbackNotFound):
        cloud_env('AZURE_CLOUD_ENVIRONMENT')
    assert REJECTED_ENVIRONMENT == {'AZURE_CLOUD_ENVIRONMENT': 'AzureGermanCloud'}
    graph_argument_spec()
    assert REJECTED_ENVIRONMENT == {}


def test_secret_options_are_no_log():
    spec = graph_argument_spec()
    assert all(spec[name].get('no_log') for name in ('client_secret', 'client_certificate_password', 'access_token'))


def test_option_and_environment_names_the_variables():
    assert option_and_environment('client_secret') == 'client_secret (or AZURE_CLIENT_SECRET or AZURE_SECRET)'
    assert option_and_environment('job_id') == 'job_id'


def test_clouds_set_both_endpoints_and_the_scope():
    settings = GraphSettings.from_params(params(cloud='usgov_dod'), environ={})
    assert settings.graph_endpoint == 'https://dod-graph.microsoft.us'
    assert settings.authority_host == 'https://login.microsoftonline.us'
    assert settings.graph_scope == 'https://dod-graph.microsoft.us/.default'
    override = GraphSettings.from_params(params(graph_endpoint='https://127.0.0.1:8443/', authority_host='https://127.0.0.1:8443'), environ={})
    assert override.graph_scope == 'https://127.0.0.1:8443/.default'
    assert override.graph_root == 'https://127.0.0.1:8443/v1.0'


@pytest.mark.parametrize('given, canonical', [
    ('https://graph.microsoft.com', 'https://graph.microsoft.com'),
    (' HTTPS://Graph.Microsoft.COM./ ', 'https://graph.microsoft.com'),
    ('https://graph.example:443', 'https://graph.example'),
    ('https://graph.example:08443', 'https://graph.example:8443'),
    ('https://[0:0::1]:8443', 'https://[::1]:8443'),
    ('https://127.0.0.1', 'https://127.0.0.1'),
])
def test_base_urls_are_canonical(given, canonical):
    assert parse_base_url('graph_endpoint', given) == canonical


@pytest.mark.parametrize('given', [
    'http://graph.example', 'ftp://graph.example', 'graph.example', '//graph.example', 'https://', 'https:///v1.0',
    'https://graph.example/v1.0', 'https://graph.example//', 'https://graph.example?x=1', 'https://graph.example#top',
    'https://graph.example:0', 'https://graph.example:65536', 'https://graph.example:+1', 'https://graph.example:x',
    'https://-graph.example', 'https://graph..example', 'https://gra_ph.example', 'https://graph%2eexample', 'https://graph.example%2f',
    'https://graph.example\\evil', 'https://[::1', 'https://[::g]', 'https://::1', 'https://[fe80::1%25eth0]', 'https://[v1.fe]',
    # urlsplit would drop what follows a bracket, the tab and newline, and turn a Kelvin sign into k:
    'https://[::1]evil.example', 'https://gra\tph.example', 'https://graph.exam\nple', 'https://\u212aeys.example',
    'https://gr\u00e4ph.example', None, 42,
])
def test_anything_but_https_host_port_is_refused_naming_the_option(given):
    with pytest.raises(OptionError) as caught:
        parse_base_url('graph_endpoint', given)
    assert caught.value.option == 'graph_endpoint' and 'https://host or https://host:port' in caught.value.message


@pytest.mark.parametrize('given', ['https://user:hunter2@graph.example', 'https://hunter2@graph.example'])
def test_a_url_with_a_password_is_never_repeated(given):
    with pytest.raises(OptionError) as caught:
        parse_base_url('graph_endpoint', given)
    assert 'hunter2' not in caught.value.message and 'a value with a user name or password' in caught.value.message


def test_authority_host_may_be_a_bare_host_name():
    """azure-identity's AZURE_AUTHORITY_HOST convention: a bare host means https."""
    settings = GraphSettings.from_params(params(authority_host='login.microsoftonline.us:8443'), environ={})
    assert settings.authority_host == 'https://login.microsoftonline.us:8443'
    with pytest.raises(OptionError):
        GraphSettings.from_params(params(graph_endpoint='graph.microsoft.us'), environ={})
    with pytest.raises(OptionError):
        GraphSettings.from_params(params(authority_host='login.example/tenant'), environ={})


@pytest.mark.parametrize('overrides, option', [
    (dict(graph_endpoint='http://127.0.0.1:8443'), 'graph_endpoint'),
    (dict(authority_host='http://login.microsoftonline.com'), 'authority_host'),
    (dict(access_token='two words'), 'access_token'),
    (dict(access_token='tok\x00en'), 'access_token'),
    (dict(timeout=0), 'timeout'),
    (dict(timeout=float('nan')), 'timeout'),
    (dict(timeout=3601), 'timeout'),
    (dict(max_retries=11), 'max_retries'),
    (dict(max_retries=-1), 'max_retries'),
    (dict(ca_path='/nonexistent/ca.pem'), 'ca_path'),
])
def test_bad_settings_name_the_option(overrides, option):
    with pytest.raises(OptionError) as caught:
        GraphSettings.from_params(params(**overrides), environ={})
    assert caught.value.option == option and option in caught.value.message


def test_padded_secrets_are_trimmed():
    """Secrets pasted from vaults often end in a newline."""
    settings = GraphSettings.from_params(params(access_token='tok\n', client_secret=' s3cret \n', tenant_id=' '), environ={})
    assert settings.access_token == 'tok' and settings.client_secret == 's3cret' and settings.tenant_id is None


def test_verify_follows_ca_path_then_validate_certs_then_the_environment(tmp_path):
    """ca_path wins over REQUESTS_CA_BUNDLE (the transport ignores the environment, so it is resolved here)."""
    ca = tmp_path / 'ca.pem'
    ca.write_text('x')
    environ = {'REQUESTS_CA_BUNDLE': '/env/bundle.pem', 'CURL_CA_BUNDLE': '/env/curl.pem'}
    assert GraphSettings.from_params(params(ca_path=str(ca)), environ=environ).verify == str(ca)
    assert GraphSettings.from_params(params(ca_path=str(ca), validate_certs=False), environ=environ).verify is False
    assert GraphSettings.from_params(params(validate_certs=False), environ=environ).verify is False
    assert GraphSettings.from_params(params(), environ=environ).verify == '/env/bundle.pem'
    assert GraphSettings.from_params(params(), environ={'CURL_CA_BUNDLE': '/env/curl.pem'}).verify == '/env/curl.pem'
    assert GraphSettings.from_params(params(), environ={}).verify is True


def test_token_cache_path_defaults_under_the_cache_directory(tmp_path):
    settings = GraphSettings.from_params(params(), environ={'XDG_CACHE_HOME': str(tmp_path)})
    assert settings.token_cache_path == str(tmp_path / 'msgraph.migrations' / 'msal-token-cache.json')
    assert GraphSettings.from_params(params(token_cache_path='/x/cache.json'), environ={}).token_cache_path == '/x/cache.json'
    assert GraphSettings.from_params(params(token_cache=False), environ={}).token_cache_path is None


def test_repr_never_shows_secrets():
    settings = GraphSettings.from_params(params(client_secret='s3cr3t-value', access_token='tok-value',
                                                client_certificate_password='pfx-pass'), environ={})
    shown = repr(settings)
    assert 's3cr3t' not in shown and 'tok-value' not in shown and 'pfx-pass' not in shown and 'graph.microsoft.com' in shown


def test_host_of_never_shows_user_info():
    assert host_of('https://user:pw@evil.example:8443/x') == 'evil.example:8443'
    assert host_of('/relative') == '(no host)'
    assert host_of('https://[::1') == '(unreadable URL)'


def test_wait_timeout_is_checked_only_when_waiting():
    check_wait_options(dict(wait=False, wait_timeout=0))
    with pytest.raises(OptionError, match='wait_timeout'):
        check_wait_options(dict(wait=True, wait_timeout=0))
