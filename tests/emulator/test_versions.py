# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""API versions the migration endpoints are served on (settings.api_versions), and tasks and jobs with odd data
(a raw currentStatus, keys left out, a null job status)."""

from __future__ import annotations

import copy

import pytest

from emu_helpers import APP, JOB, TASK, TASK_2, TENANT, WRITE_ROLE, bearer, scenario, task_url
from msgraph_emulator import ScenarioError
from msgraph_emulator.scenario import read_scenario

SEGMENT_MESSAGE = "Resource not found for the segment 'migrations'."


def with_settings(app_cert, **settings):
    data = copy.deepcopy(scenario(app_cert[0]))
    data['settings'].update(settings)
    return data


def fresh_token(emu):
    """A read/write token (a reset forgets the tokens issued before)."""
    return emu.mint_token(TENANT, APP, [WRITE_ROLE])


def assert_segment_error(resp):
    assert resp.status_code == 400, resp.text
    assert resp.json()['error']['code'] == 'BadRequest'
    assert resp.json()['error']['message'] == SEGMENT_MESSAGE


def test_both_versions_are_served_by_default(emu, http, token):
    assert read_scenario({}).settings['api_versions'] == ['v1.0', 'beta']
    for version in ('v1.0', 'beta'):
        assert http.get(emu.url + task_url(version=version), headers=bearer(token)).status_code == 200


@pytest.mark.parametrize('served, refused', [(['beta'], 'v1.0'), (['v1.0'], 'beta')])
def test_a_version_not_served_answers_like_graph_without_the_api(emu, http, app_cert, served, refused):
    emu.reset(with_settings(app_cert, api_versions=served))
    token = fresh_token(emu)
    cancel = task_url(version=refused) + '/cancel'
    assert_segment_error(http.get(emu.url + task_url(version=refused), headers=bearer(token)))
    assert_segment_error(http.get(emu.url + '/%s/solutions/migrations/crossTenantMigrationJobs' % refused, headers=bearer(token)))
    assert_segment_error(http.post(emu.url + cancel, headers=bearer(token)))
    # Nothing was cancelled, and the served version still works.
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'inProgress'
    assert http.get(emu.url + task_url(version=served[0]), headers=bearer(token)).status_code == 200
    log = [entry for entry in emu.requests() if entry['kind'] == 'graph']
    assert [entry['status'] for entry in log] == [400, 400, 400, 200]


def test_batch_sub_requests_on_a_version_not_served_get_the_segment_error(emu, http, app_cert):
    emu.reset(with_settings(app_cert, api_versions=['beta']))
    token = fresh_token(emu)
    requests = [{'id': str(i), 'method': 'POST', 'url': task_url(task=task)[len('/v1.0'):] + '/cancel'} for i, task in enumerate((TASK, TASK_2))]
    reply = http.post(emu.url + '/v1.0/$batch', json={'requests': requests}, headers=bearer(token))
    assert reply.status_code == 200, 'the $batch endpoint itself exists on every version'
    for response in reply.json()['responses']:
        assert response['status'] == 400 and response['body']['error']['message'] == SEGMENT_MESSAGE
    assert emu.task(JOB, TASK)['currentStatus'][0]['status'] == 'inProgress'


def test_api_versions_is_checked(app_cert):
    for bad in ('beta', ['v2.0'], [1]):
        with pytest.raises(ScenarioError, match='settings.api_versions'):
            read_scenario(with_settings(app_cert, api_versions=bad))


def test_a_raw_current_status_and_left_out_keys_are_shown_as_given(emu, http, app_cert):
    data = copy.deepcopy(scenario(app_cert[0]))
    job = data['jobs'][0]
    job['status'] = None
    job['tasks'] = [{'id': TASK, 'currentStatus': 'inProgress'},
                    {'id': TASK_2, 'omit': ['currentStatus'], 'workloads': {'Exchange': 'completed'}}]
    emu.reset(data)
    token = fresh_token(emu)
    assert http.get(emu.url + task_url(), headers=bearer(token)).json()['currentStatus'] == 'inProgress'
    second = http.get(emu.url + task_url(task=TASK_2), headers=bearer(token)).json()
    assert 'currentStatus' not in second and second['id'] == TASK_2
    assert http.get(emu.url + '/v1.0/solutions/migrations/crossTenantMigrationJobs/' + JOB, headers=bearer(token)).json()['status'] is None
    # The workloads alone decide a cancel: none for the raw task (accepted), Exchange completed for the other (409).
    assert http.post(emu.url + task_url() + '/cancel', headers=bearer(token)).status_code == 202
    assert http.post(emu.url + task_url(task=TASK_2) + '/cancel', headers=bearer(token)).status_code == 409
    assert emu.task(JOB, TASK)['currentStatus'] == 'inProgress'


def test_omit_is_checked(app_cert):
    data = copy.deepcopy(scenario(app_cert[0]))
    data['jobs'][0]['tasks'] = [{'id': TASK, 'omit': ['id']}]
    with pytest.raises(ScenarioError, match=r'tasks\[0\]\.omit: cannot leave out id'):
        read_scenario(data)
    data['jobs'][0]['tasks'] = [TASK]
    data['jobs'][0]['omit'] = ['status', 'resources']
    with pytest.raises(ScenarioError, match=r'jobs\[0\]\.omit: cannot leave out resources'):
        read_scenario(data)
