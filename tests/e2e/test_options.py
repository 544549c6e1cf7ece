# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Options and environment: bad input fails naming the option (or variable) before any request,
and the messages say what to do."""

from __future__ import annotations

import pytest

from conftest import JOB, TASK_ACTIVE


@pytest.mark.parametrize('option, value', [
    ('graph_endpoint', 'https://user:Pa55-w0rd@127.0.0.1:8443'),
    ('graph_endpoint', 'https://127.0.0.1:8443/v1.0'),
    ('graph_endpoint', 'https://127.0.0.1:8443?x=1'),
    ('graph_endpoint', 'https://127.0.0.1:99999'),
    ('graph_endpoint', 'https://[::1'),
    ('graph_endpoint', 'http://127.0.0.1:8443'),
    ('authority_host', 'https://user:Pa55-w0rd@login.example'),
    ('authority_host', 'https://login.example/tenant'),
    ('timeout', float('inf')),
    ('timeout', float('nan')),
    ('timeout', -1),
])
def test_bad_connection_options_fail_naming_the_option_before_any_request(harness, option, value):
    run = harness.play([harness.cancel_task(**{option: value})])
    assert run.rc != 0
    result = run.result()
    assert result['msg'].startswith('Invalid value for option %s:' % option), result['msg']
    assert 'Pa55-w0rd' not in run.output and 'Unexpected' not in result['msg']
    assert harness.requests() == []


def test_a_trailing_slash_is_fine(harness):
    run = harness.play([harness.cancel_task(graph_endpoint=harness.emu.url + '/', authority_host=harness.emu.url + '/')])
    assert run.rc == 0, run.output


def test_a_huge_id_is_not_echoed_whole(harness):
    run = harness.play([harness.cancel_task('x' * 100000)])
    assert run.rc != 0
    msg = run.result()['msg']
    assert 'option task_id' in msg and '(100000 characters)' in msg and len(msg) < 400


def test_missing_client_id_names_its_environment_variable(harness):
    run = harness.play([harness.cancel_task(client_id=None)])
    assert run.rc != 0
    assert 'option client_id (or AZURE_CLIENT_ID)' in run.result()['msg']
    assert run.result()['job_id'] == JOB and run.result()['task_id'] == TASK_ACTIVE
    assert harness.requests() == []


def test_an_unknown_azure_cloud_environment_names_the_variable_and_the_accepted_names(harness):
    run = harness.play([harness.cancel_task()], env={'AZURE_CLOUD_ENVIRONMENT': 'AzureGermanCloud'})
    assert run.rc != 0
    msg = run.result()['msg']
    assert 'AZURE_CLOUD_ENVIRONMENT' in msg and 'AzureGermanCloud' in msg and 'AzureUSGovernment' in msg
    assert harness.requests() == []


def test_an_azure_cloud_name_in_any_case_is_accepted(harness):
    run = harness.play([harness.cancel_task()], env={'AZURE_CLOUD_ENVIRONMENT': 'azurecloud'})
    assert run.rc == 0, run.output


def test_validate_certs_false_warns(harness):
    run = harness.play([harness.cancel_task(validate_certs=False, ca_path=None)])
    assert run.rc == 0, run.output
    assert any('validate_certs is false' in w for w in run.result()['warnings'])


def test_netrc_never_replaces_the_bearer_token(harness, tmp_path):
    home = tmp_path / 'home'
    home.mkdir()
    (home / '.netrc').write_text('machine 127.0.0.1 login someone password netrc-Pa55\n')
    (home / '.netrc').chmod(0o600)
    run = harness.play([harness.cancel_task()], env={'HOME': str(home), 'NETRC': str(home / '.netrc')})
    assert run.rc == 0, run.output
    assert {e['authorization'] for e in harness.requests(kind='graph')} == {'Bearer'}
    assert all(e['authorization'] is None for e in harness.requests(kind='token'))


def test_an_identity_header_with_a_newline_is_refused_without_printing_it(harness):
    env = {'IDENTITY_ENDPOINT': harness.emu.url + '/msi/token', 'IDENTITY_HEADER': 'hdr-Secret-9Q\n'}
    run = harness.play([harness.cancel_task(client_id=None, client_secret=None, tenant_id=None, auth_method='managed_identity')],
                       env=env, args=('-vvvv',))
    assert run.rc != 0
    assert 'IDENTITY_HEADER' in run.result()['msg'] and 'hdr-Secret-9Q' not in run.output
    assert harness.requests() == []
