# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rollback runbook (examples/rollback.yml) run the way AWX runs a job template: through
ansible-runner, with the credentials as the AZURE_* environment AWX's built-in Azure credential
injects and the survey's answers as extra vars; assertions on the runner's artifacts."""

from __future__ import annotations

import csv
import json
import os
import shutil

import ansible_runner
import pytest

from conftest import APP, BIN, JOB, REPO, SECRET, TASK_ACTIVE, TASK_ACTIVE_2, TASK_CANCELLED, TASK_COMPLETED, TENANT, base_scenario

SURVEY = os.path.join(REPO, 'docs', 'awx', 'survey_rollback.json')
MISSING_USER = 'ffffffff-ffff-4fff-8fff-ffffffffffff'


def survey_answers(answers):
    """Extra vars as AWX builds them from the survey: one per question, by its variable name."""
    with open(SURVEY, encoding='utf-8') as handle:
        spec = json.load(handle)
    variables = {question['variable'] for question in spec['spec']}
    assert set(answers) <= variables, 'the survey asks for every variable the test answers'
    return {variable: answers.get(variable, next(q.get('default') for q in spec['spec'] if q['variable'] == variable))
            for variable in variables}


@pytest.fixture(autouse=True)
def quick_cancels(harness):
    """Graph moves pendingCancel to cancelled after a second, so the runbook's wait is short."""
    scenario = base_scenario()
    scenario['settings']['cancel_delay_seconds'] = 1
    harness.emu.reset(scenario)


def run_job_template(harness, tmp_path, answers, check=False):
    data_dir = tmp_path / 'runner'
    (data_dir / 'project').mkdir(parents=True)
    (data_dir / 'env').mkdir()
    shutil.copy(os.path.join(REPO, 'examples', 'rollback.yml'), data_dir / 'project' / 'rollback.yml')
    (data_dir / 'inventory').mkdir()
    (data_dir / 'inventory' / 'hosts').write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n'
                                                  % os.path.join(BIN, 'python'))
    report_dir = tmp_path / 'reports'
    report_dir.mkdir()
    extravars = survey_answers(answers)
    # Job template extra vars: where the emulator is (a real tenant needs none of these).
    extravars.update(graph_endpoint=harness.emu.url, ca_path=harness.emu.ca_file, rollback_report_dir=str(report_dir))
    envvars = {
        # What AWX's built-in "Microsoft Azure Resource Manager" credential injects.
        'AZURE_CLIENT_ID': APP, 'AZURE_SECRET': SECRET, 'AZURE_TENANT': TENANT,
        'AZURE_SUBSCRIPTION_ID': '00000000-0000-4000-8000-00000000000d', 'AZURE_CLOUD_ENVIRONMENT': 'AzureCloud',
        # The emulator's login host (a custom credential or the job template's environment would set it).
        'AZURE_AUTHORITY_HOST': harness.emu.url,
        'ANSIBLE_COLLECTIONS_PATH': harness.base_env()['ANSIBLE_COLLECTIONS_PATH'],
        'ANSIBLE_HOME': str(tmp_path / 'ansible-home'), 'XDG_CACHE_HOME': str(tmp_path / 'cache'),
        'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
    }
    runner = ansible_runner.run(private_data_dir=str(data_dir), playbook='rollback.yml', extravars=extravars, envvars=envvars,
                                cmdline='--check' if check else None, quiet=True, timeout=300)
    stats_events = [event for event in runner.events if event.get('event') == 'playbook_on_stats']
    artifact = stats_events[-1]['event_data'].get('artifact_data', {}) if stats_events else {}
    return runner, artifact.get('rollback_summary'), report_dir


def test_the_rollback_runbook_as_an_awx_job_template(harness, tmp_path):
    users = '%s, %s\n%s\n%s' % (TASK_ACTIVE, TASK_ACTIVE_2.upper(), TASK_COMPLETED, TASK_CANCELLED)
    answers = {'migration_job_id': JOB, 'rollback_users': users, 'rollback_wait_timeout': 60}
    runner, summary, report_dir = run_job_template(harness, tmp_path, answers)
    assert runner.status == 'successful' and runner.rc == 0, runner.stdout.read()
    assert summary['requested'] == 4 and summary['cancelled'] == 2
    assert summary['already_cancelled'] == 1 and summary['not_cancellable'] == 1 and summary['failed'] == 0
    # One bulk task: one token, one $batch with the two cancellable users, one listing before.
    assert len(harness.requests(kind='token')) == 1
    batches = harness.requests(kind='batch')
    assert len(batches) == 1 and batches[0]['batch_size'] == 2
    with open(summary['report_json'], encoding='utf-8') as handle:
        report = json.load(handle)
    rows = {row['user_id']: row for row in report['users']}
    assert rows[TASK_ACTIVE]['outcome'] == 'cancelled' and rows[TASK_ACTIVE]['request_id']
    assert rows[TASK_COMPLETED]['outcome'] == 'not_cancellable' and rows[TASK_COMPLETED]['workloads']['Exchange'] == 'completed'
    with open(summary['report_csv'], encoding='utf-8', newline='') as handle:
        table = list(csv.DictReader(handle))
    assert {row['user_id']: row['outcome'] for row in table}[TASK_ACTIVE_2] == 'cancelled'
    assert str(report_dir) in summary['report_csv']

    rerun, again, _dir = run_job_template(harness, tmp_path / 'rerun', {'migration_job_id': JOB, 'rollback_users': users})
    assert rerun.status == 'successful', rerun.stdout.read()
    assert again['cancelled'] == 0 and again['already_cancelled'] == 3
    assert SECRET not in rerun.stdout.read()


def test_a_user_not_in_the_job_fails_the_job_after_the_report(harness, tmp_path):
    runner, summary, _dir = run_job_template(harness, tmp_path, {'migration_job_id': JOB,
                                                                 'rollback_users': '%s %s' % (TASK_ACTIVE, MISSING_USER)})
    assert runner.status == 'failed'
    assert summary['not_found'] == 1 and summary['cancelled'] == 1
    assert os.path.exists(summary['report_json'])


def test_the_survey_spec_is_valid_awx_json():
    with open(SURVEY, encoding='utf-8') as handle:
        spec = json.load(handle)
    assert spec['name'] and isinstance(spec['spec'], list)
    for question in spec['spec']:
        assert {'question_name', 'variable', 'type', 'required'} <= set(question)
        assert question['type'] in ('text', 'textarea', 'integer', 'multiplechoice', 'password', 'float', 'multiselect')
    assert {q['variable'] for q in spec['spec'] if q['required']} >= {'migration_job_id', 'rollback_users'}


@pytest.mark.parametrize('check', [True])
def test_check_mode_job_template_changes_nothing(harness, tmp_path, check):
    runner, summary, _dir = run_job_template(harness, tmp_path, {'migration_job_id': JOB, 'rollback_users': 'all'}, check=check)
    assert runner.status == 'successful', runner.stdout.read()
    assert summary['check_mode'] is True and summary['cancelled'] == 2
    assert harness.requests(kind='batch') == [] and harness.emu.task(JOB, TASK_ACTIVE)['currentStatus'][0]['status'] == 'inProgress'
