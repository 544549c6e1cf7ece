# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The module base (_ansible/module.py) around a real AnsibleModule: validation order, context in
every failure, environment fallbacks, warnings, and messages that never carry a secret or an exception's text."""

from __future__ import annotations

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.module import GraphModule
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, MissingLibraryError
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import validate_guid

from ansible_collections.msgraph.migrations.tests.unit.fakes import CLIENT_ID, JOB, TENANT
from ansible_collections.msgraph.migrations.tests.unit.module_harness import FailJson, Harness

SECRET = 'client-secret-value-1234'
CREDENTIALS = dict(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=SECRET)


def make_main(work=None, seen=None):
    """A module with a job_id option whose validate() puts the job id into the context."""

    def main():
        module = GraphModule(dict(job_id=dict(type='str', required=True)))

        def validate():
            module.context['job_id'] = validate_guid('job_id', module.params['job_id'])

        def run(session):
            if seen is not None:
                seen.append(session)
            return work(session) if work is not None else dict(changed=False, answer=42)

        module.run(run, validate=validate)

    return main


@pytest.fixture
def harness(monkeypatch):
    return Harness(monkeypatch)


def test_a_successful_run_exits_with_the_context_and_sends_nothing_by_itself(harness):
    seen = []
    result = harness.run(make_main(seen=seen), dict(job_id=JOB.upper(), **CREDENTIALS))
    assert result == {'changed': False, 'job_id': JOB, 'answer': 42}
    assert harness.sent == [] and harness.transports[0].closed
    assert seen[0].settings.graph_endpoint == 'https://graph.microsoft.com' and seen[0].client is not None
    assert harness.transport_args == [(True, 30.0, 1)]


def test_module_options_are_validated_before_settings_and_credentials(harness):
    """A bad job_id is reported even when the endpoint and the credentials are wrong too; no transport is built."""
    with pytest.raises(FailJson) as caught:
        harness.run(make_main(), dict(job_id='../evil', graph_endpoint='http://graph.example'))
    assert caught.value.result['msg'].startswith('Invalid value for option job_id: expected a GUID')
    assert 'job_id' not in {key for key in caught.value.result if key != 'msg'}, 'no context before it is validated'
    assert harness.transports == []


@pytest.mark.parametrize('args, words', [
    (dict(graph_endpoint='http://graph.example', **CREDENTIALS), 'Invalid value for option graph_endpoint'),
    (dict(tenant_id=TENANT, client_secret=SECRET), 'client_id (or AZURE_CLIENT_ID)'),
    (dict(), 'credentials for auth_method auto, but none are set'),
    (dict(timeout=0, **CREDENTIALS), 'Invalid value for option timeout'),
], ids=['settings', 'missing-client-id', 'no-credentials', 'timeout'])
def test_the_context_is_in_every_failure_after_validation(harness, args, words):
    with pytest.raises(FailJson) as caught:
        harness.run(make_main(), dict(job_id=JOB, **args))
    assert words in caught.value.result['msg'] and caught.value.result['job_id'] == JOB and caught.value.result['changed'] is False


def test_a_failure_of_the_work_carries_its_fields_the_context_and_no_secret(harness):
    def work(session):
        raise GraphMigrationsError('Graph said: client_secret=%s was wrong' % SECRET, status_code=400, error={'code': 'X'})

    with pytest.raises(FailJson) as caught:
        harness.run(make_main(work), dict(job_id=JOB, **CREDENTIALS))
    result = caught.value.result
    assert result['msg'] == 'Graph said: client_secret=******** was wrong'
    assert result['job_id'] == JOB and result['status_code'] == 400 and result['error'] == {'code': 'X'}
    assert SECRET in harness.no_log_values, 'Ansible masks the secret a second time'
    assert harness.transports[0].closed


def test_an_unexpected_exception_reports_only_its_type_name(harness):
    leak = 'Authorization: Bearer eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2ln and ' + SECRET

    def work(session):
        raise RuntimeError(leak)

    with pytest.raises(FailJson) as caught:
        harness.run(make_main(work), dict(job_id=JOB, **CREDENTIALS))
    result = caught.value.result
    assert result['msg'] == 'Unexpected RuntimeError in msgraph.migrations; please report it with the traceback shown at -vvv.'
    assert result['job_id'] == JOB
    shown = repr(result)
    assert SECRET not in shown and 'eyJ0eXAi' not in shown and 'Bearer' not in shown
    assert 'in work' in result['exception'], 'the traceback says where'


def test_a_missing_library_says_which_and_for_what(harness):
    def work(session):
        raise MissingLibraryError('msal', 'auth_method client_secret')

    with pytest.raises(FailJson) as caught:
        harness.run(make_main(work), dict(job_id=JOB, **CREDENTIALS))
    assert 'msal' in caught.value.result['msg'] and 'required for auth_method client_secret' in caught.value.result['msg']
    assert caught.value.result['job_id'] == JOB


def test_an_unknown_azure_cloud_environment_names_the_variable_and_the_accepted_names(harness, monkeypatch):
    monkeypatch.setenv('AZURE_CLOUD_ENVIRONMENT', 'AzureGermanCloud')
    with pytest.raises(FailJson) as caught:
        harness.run(make_main(), dict(job_id=JOB, **CREDENTIALS))
    message = caught.value.result['msg']
    assert message.startswith('Invalid value for option cloud: expected one of global, usgov, usgov_dod, china, or in the environment '
                              'variable AZURE_CLOUD_ENVIRONMENT one of those or the Azure names AzureCloud, AzureUSGovernment, AzureChinaCloud')
    assert message.endswith('AZURE_CLOUD_ENVIRONMENT is AzureGermanCloud.') and caught.value.result['job_id'] == JOB


def test_an_azure_cloud_name_from_awx_selects_the_cloud(harness, monkeypatch):
    monkeypatch.setenv('AZURE_CLOUD_ENVIRONMENT', 'AzureUSGovernment')
    seen = []
    harness.run(make_main(seen=seen), dict(job_id=JOB, **CREDENTIALS))
    assert seen[0].settings.graph_endpoint == 'https://graph.microsoft.us'


def test_an_explicit_cloud_option_wins_over_a_bad_environment_value(harness, monkeypatch):
    monkeypatch.setenv('AZURE_CLOUD_ENVIRONMENT', 'AzureGermanCloud')
    seen = []
    harness.run(make_main(seen=seen), dict(job_id=JOB, cloud='china', **CREDENTIALS))
    assert seen[0].settings.graph_endpoint == 'https://microsoftgraph.chinacloudapi.cn'


def test_validate_certs_false_warns_once(harness):
    harness.run(make_main(), dict(job_id=JOB, validate_certs=False, **CREDENTIALS))
    assert len(harness.warnings) == 1 and harness.warnings[0].startswith('validate_certs is false: the TLS certificates of Graph and Entra ID')
    assert harness.transport_args[0][0] is False


def test_awx_environment_names_are_used_and_empty_ones_ignored(harness, monkeypatch):
    """AWX's Azure credential injects AZURE_TENANT and AZURE_SECRET, and empty strings for unset fields."""
    monkeypatch.setenv('AZURE_TENANT_ID', '')
    monkeypatch.setenv('AZURE_TENANT', TENANT)
    monkeypatch.setenv('AZURE_CLIENT_ID', CLIENT_ID)
    monkeypatch.setenv('AZURE_CLIENT_SECRET', '')
    monkeypatch.setenv('AZURE_SECRET', SECRET + '\n')
    monkeypatch.setenv('AZURE_CLIENT_CERTIFICATE_PATH', '')
    seen = []
    harness.run(make_main(seen=seen), dict(job_id=JOB))
    settings = seen[0].settings
    assert settings.tenant_id == TENANT and settings.client_id == CLIENT_ID and settings.client_secret == SECRET
    assert settings.client_certificate_path is None
    assert SECRET in harness.no_log_values


def test_warnings_are_scrubbed(harness):
    def work(session):
        session.client.warn('retrying after the proxy echoed %s' % SECRET)
        return dict(changed=True)

    result = harness.run(make_main(work), dict(job_id=JOB, **CREDENTIALS))
    assert result['changed'] is True and harness.warnings == ['retrying after the proxy echoed ********']


def test_ansibles_own_option_checks_come_first(harness):
    with pytest.raises(FailJson) as caught:
        harness.run(make_main(), dict(**CREDENTIALS))
    assert 'missing required arguments: job_id' in caught.value.result['msg']
    with pytest.raises(FailJson) as caught:
        harness.run(make_main(), dict(job_id=JOB, cloud='mars', **CREDENTIALS))
    assert 'cloud' in caught.value.result['msg'] and harness.transports == []
