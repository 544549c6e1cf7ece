# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AWX custom credential type (docs/awx/credential_type.yml): its injectors are
rendered the way AWX renders them (every field defaults to "", file templates are
written to files named by tower.filename.NAME, every env entry is set), then a play
runs with nothing but that environment."""

from __future__ import annotations

import os

import jinja2.sandbox
import pytest
import yaml

from conftest import APP, CERT_APP, FEDERATED_APP, JOB, REPO, SECRET, TASK_ACTIVE, TENANT
from test_auth import federated_token

CREDENTIAL_TYPE = os.path.join(REPO, 'docs', 'awx', 'credential_type.yml')


def render_injectors(inputs, tmp_path):
    with open(CREDENTIAL_TYPE, encoding='utf-8') as handle:
        credential_type = yaml.safe_load(handle)
    fields = {field['id']: '' for field in credential_type['inputs']['fields']}
    for required in credential_type['inputs'].get('required', []):
        assert inputs.get(required), 'AWX would refuse a credential without %s' % required
    fields.update(inputs)
    templates = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    injectors = credential_type['injectors']
    filenames = {}
    for key, template in injectors.get('file', {}).items():
        name = key.split('.', 1)[1]
        path = tmp_path / ('awx_%s' % name)
        path.write_text(templates.from_string(template).render(**fields))
        filenames[name] = str(path)
    context = dict(fields, tower={'filename': filenames})
    return {name: templates.from_string(template).render(**context) for name, template in injectors['env'].items()}


def cancel_play(harness):
    return [{'name': 'Cancel', 'msgraph.migrations.crosstenant_migration_task_cancel': {
        'job_id': JOB, 'task_id': TASK_ACTIVE, 'graph_endpoint': harness.emu.url, 'ca_path': harness.emu.ca_file}}]


@pytest.mark.parametrize('method', ['client_secret', 'certificate', 'federated_token'])
def test_custom_credential_type_injectors_authenticate(harness, tmp_path, app_certificate, method):
    cert_pem, pem_file, _pfx, password = app_certificate
    inputs = {
        'client_secret': {'tenant_id': TENANT, 'client_id': APP, 'client_secret': SECRET},
        'certificate': {'tenant_id': TENANT, 'client_id': CERT_APP, 'certificate': open(pem_file, encoding='ascii').read(),
                        'certificate_password': password},
        'federated_token': {'tenant_id': TENANT, 'client_id': FEDERATED_APP, 'federated_token': federated_token()},
    }[method]
    env = render_injectors(inputs, tmp_path)
    env['AZURE_AUTHORITY_HOST'] = harness.emu.url
    run = harness.play(cancel_play(harness), env=env, args=('-vvvv',))
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True
    expected = {'client_secret': 'secret', 'certificate': 'certificate', 'federated_token': 'federated'}[method]
    assert [t['credential'] for t in harness.requests(kind='token')] == [expected]
    for name in ('client_secret', 'certificate_password', 'federated_token'):
        if name in inputs:
            assert inputs[name] not in run.output
