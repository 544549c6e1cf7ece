# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The migration resources (_migration/model.py): ids, URLs, workload and job states, dates and the evidence window."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, OptionError
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import (
    EVIDENCE_SKEW_SECONDS,
    assess_task,
    changed_since,
    job_cancel_blocker,
    parse_graph_datetime,
    permission_hint,
    require_shape,
    task_cancel_path,
    validate_guid,
    validate_guid_list,
)

from ansible_collections.msgraph.migrations.tests.unit.fakes import JOB, TASK, job, task

NOW = datetime.datetime(2026, 11, 29, tzinfo=datetime.timezone.utc)


def test_validate_guid_accepts_guids_and_lowercases():
    assert validate_guid('job_id', JOB.upper()) == JOB


@pytest.mark.parametrize('bad', [
    '', ' ', '../x', JOB + 'x', JOB + '\n', ' ' + JOB, JOB + '/cancel', '{%s}' % JOB, JOB.replace('-', ''), JOB[:-2] + '%2f',
    '%2e%2e%2f', JOB[:-1] + '%', JOB[:-1] + 'g', JOB[:-1] + '\u0430', JOB[:-1] + '\uff10', JOB[:8] + '/..' + JOB[11:], JOB + '?x', JOB + '#',
    None, 42, [JOB],
])
def test_validate_guid_rejects_everything_else_naming_the_option(bad):
    """No suffix, path, percent-encoding, look-alike digit or trailing newline slips into a URL path."""
    with pytest.raises(OptionError) as caught:
        validate_guid('task_id', bad)
    assert caught.value.option == 'task_id' and 'a GUID such as' in caught.value.message


def test_validate_guid_list_keeps_the_first_order_and_drops_duplicates_in_any_case():
    other = '00000000-0000-0000-0000-00000000000a'
    assert validate_guid_list('task_ids', [TASK, other.upper(), TASK.upper(), other], 10) == [TASK, other]


@pytest.mark.parametrize('values, words', [
    ([], 'a non-empty list'), ('x', 'a non-empty list'), ([TASK] * 3, 'at most 2 GUIDs, got 3'), ([TASK, 'nope'], 'task_ids[1]'),
])
def test_validate_guid_list_failures_name_the_option_or_the_item(values, words):
    with pytest.raises(OptionError) as caught:
        validate_guid_list('task_ids', values, 2)
    assert words in caught.value.message


def test_cancel_path():
    assert task_cancel_path(JOB, TASK) == '/solutions/migrations/crossTenantMigrationJobs/%s/users/%s/cancel' % (JOB, TASK)


def test_permission_hints_name_the_least_permission():
    assert 'CrossTenantContentMigration.ReadWrite.All' in permission_hint(write=True)
    assert 'Migration Administrator' in permission_hint(write=True)
    assert permission_hint(write=False).startswith('The app needs the Graph permission CrossTenantContentMigration.Read.All')


def test_assess_task_states_in_any_case():
    assert assess_task(task(Exchange='inProgress', ODSP='notStarted')).state == 'cancellable'
    blocked = assess_task(task(Exchange='Completed', Teams='inProgress'))
    assert blocked.state == 'not_cancellable' and blocked.blocking == {'Exchange': 'Completed'}
    assert blocked.reason == 'workload Exchange is Completed'
    assert assess_task(task(Exchange='pendingCancel', Teams='CANCELLED')).state == 'already_cancelled'
    assert assess_task(task(Exchange='pendingCancel', Teams='inProgress')).state == 'not_cancellable'
    assert assess_task(task()).state == 'unknown' and not assess_task(task()).cancel_in_effect
    assert assess_task(task(Exchange='somethingNew')).unknown == {'Exchange': 'somethingNew'}
    assert assess_task(task(Exchange='inProgress'), 'the job is cuttingOver').reason == 'the job is cuttingOver'


@pytest.mark.parametrize('workloads, progress', [
    (dict(Exchange='notStarted', Teams='valid'), 'not_started'),
    (dict(Exchange='inProgress', Teams='notStarted'), 'in_progress'),
    (dict(Exchange='pendingCancel', Teams='cancelled'), 'pending_cancel'),
    (dict(Exchange='cancelled', Teams='Cancelled'), 'cancelled'),
    (dict(Exchange='completed', Teams='completed'), 'completed'),
    (dict(Exchange='completed', Teams='failed'), 'failed'),
    (dict(), 'not_started'),
])
def test_progress_in_one_word(workloads, progress):
    assert assess_task(task(**workloads)).progress == progress


def test_job_cancel_blocker():
    assert job_cancel_blocker(job(), NOW) is None
    assert job_cancel_blocker(job('CompletedWithErrors'), NOW) == 'the job is CompletedWithErrors'
    assert job_cancel_blocker(job(complete_after='2026-11-28T23:59:59.1234567Z'), NOW) == (
        "the job's completeAfterDateTime 2026-11-28T23:59:59.1234567Z has passed")
    assert job_cancel_blocker(job(complete_after='not a date'), NOW) is None
    assert job_cancel_blocker('not a job', NOW) is None


@pytest.mark.parametrize('text, expected', [
    ('2026-07-01T00:00:00Z', datetime.datetime(2026, 7, 1, tzinfo=datetime.timezone.utc)),
    ('2026-07-01T00:00:00.1234567Z', datetime.datetime(2026, 7, 1, 0, 0, 0, 123456, tzinfo=datetime.timezone.utc)),
    ('2026-07-01T02:00:00+02:00', datetime.datetime(2026, 7, 1, tzinfo=datetime.timezone.utc)),
    ('2026-07-01T00:00:00', datetime.datetime(2026, 7, 1, tzinfo=datetime.timezone.utc)),
    ('yesterday', None), ('', None), (None, None), (12, None),
])
def test_graph_dates_are_read_up_to_seven_fraction_digits(text, expected):
    assert parse_graph_datetime(text) == expected


def test_changed_since_allows_the_clock_skew_window():
    """Not clearly older than our first attempt (within the skew) counts as changed after it."""
    sent = NOW.timestamp()

    def at(seconds):
        return {'lastUpdatedDateTime': (NOW + datetime.timedelta(seconds=seconds)).strftime('%Y-%m-%dT%H:%M:%SZ')}

    assert changed_since(at(5), sent) is True
    assert changed_since(at(-EVIDENCE_SKEW_SECONDS), sent) is True
    assert changed_since(at(-EVIDENCE_SKEW_SECONDS - 1), sent) is False
    assert changed_since({}, sent) is None
    assert changed_since(at(5), 0.0) is None


def test_require_shape_says_what_came_instead():
    assert require_shape(task(), 'task', 'task x') == task()
    with pytest.raises(GraphMigrationsError, match='returned a reply that is not JSON, not a task'):
        require_shape(None, 'task', 'task x')
    with pytest.raises(GraphMigrationsError, match=r'returned JSON of another shape \(list\), not a job'):
        require_shape([], 'job', 'job x')
    with pytest.raises(GraphMigrationsError, match='not a task'):
        require_shape({'currentStatus': []}, 'task', 'task x')
    # A task with odd workloads is still a task: assess_task judges it (state unknown), rather than the read refusing it.
    assert require_shape({'id': TASK, 'currentStatus': 'inProgress'}, 'task', 'task x')['id'] == TASK
