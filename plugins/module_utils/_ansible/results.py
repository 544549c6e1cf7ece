# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Turning the migration layer's outcomes into Ansible results, diffs, warnings and failures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import (
    CANCELLED,
    FAILED,
    NOT_FOUND,
    OUTCOMES,
    CancelOutcome,
    CancelReport,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.jobs import JobCancelReport
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import NOT_CANCELLABLE
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.wait import TIMED_OUT, WaitReport


@dataclass
class Shaped:
    """A module result, and the failure message when the task must fail."""

    fields: dict[str, Any]
    failure: Optional[str] = None
    warnings: list[str] = field(default_factory=list)


def _fails(outcome: str, fail_on_conflict: bool) -> bool:
    return outcome in (NOT_FOUND, FAILED) or (fail_on_conflict and outcome == NOT_CANCELLABLE)


def _common(report: CancelOutcome) -> dict[str, Any]:
    fields: dict[str, Any] = {
        'changed': report.changed,
        'outcome': report.outcome,
        'conflict': report.conflict,
        'conflict_reason': report.conflict_reason,
        'status_code': report.status_code,
        'request_id': report.request_id,
        'cancel_sent': report.cancel_sent,
        'cancel_in_doubt': report.in_doubt,
    }
    if report.error:
        fields['error'] = report.error
    if report.cancel_response is not None:
        fields['cancel_response'] = report.cancel_response
    return fields


def _shape_one(fields: dict[str, Any], report: CancelOutcome, fail_on_conflict: bool, check_mode: bool) -> Shaped:
    """One cancel's result: a failure for not_found/failed (and not_cancellable with fail_on_conflict), else a warning when too late."""
    shaped = Shaped(fields, warnings=list(report.warnings))
    if _fails(report.outcome, fail_on_conflict):
        shaped.failure = report.message
    elif report.outcome == NOT_CANCELLABLE:
        shaped.warnings.append(report.message + ('' if check_mode else ' Set fail_on_conflict to true to fail instead.'))
    return shaped


def task_diff(report: CancelReport) -> Optional[dict[str, Any]]:
    if report.before is None:
        return None
    after = report.after if report.after is not None else report.before
    return {'before': {'workloads': report.before}, 'after': {'workloads': after},
            'before_header': 'task %s' % report.task_id, 'after_header': 'task %s' % report.task_id}


def single_task_result(report: CancelReport, fail_on_conflict: bool, want_diff: bool, check_mode: bool) -> Shaped:
    fields = _common(report)
    fields['blocking_workloads'] = report.blocking
    if report.task is not None:
        fields['task'] = report.task
    if want_diff and report.before is not None:
        fields['diff'] = task_diff(report)
    return _shape_one(fields, report, fail_on_conflict, check_mode)


def bulk_task_result(reports: list[CancelReport], fail_on_conflict: bool, want_diff: bool) -> Shaped:
    entries = []
    diffs = []
    for report in reports:
        entry: dict[str, Any] = {
            'task_id': report.task_id,
            'outcome': report.outcome,
            'status_code': report.status_code,
            'request_id': report.request_id,
            'message': report.message,
            'cancel_sent': report.cancel_sent,
            'cancel_in_doubt': report.in_doubt,
            'conflict_reason': report.conflict_reason,
            'blocking_workloads': report.blocking,
            'workloads': report.after if report.after is not None else report.before,
        }
        if report.error:
            entry['error'] = report.error
        entries.append(entry)
        if want_diff and report.before is not None:
            diffs.append(task_diff(report))
    counts = Counter(report.outcome for report in reports)
    summary = {outcome: counts.get(outcome, 0) for outcome in OUTCOMES}
    summary['total'] = len(reports)
    summary['in_doubt'] = sum(1 for report in reports if report.in_doubt)
    fields: dict[str, Any] = {
        'changed': counts.get(CANCELLED, 0) > 0,
        'results': entries,
        'summary': summary,
        'conflict': any(report.conflict for report in reports),
    }
    if diffs:
        fields['diff'] = diffs
    shaped = Shaped(fields, warnings=[w for report in reports for w in report.warnings][:20])
    failing = [report for report in reports if _fails(report.outcome, fail_on_conflict)]
    counted = ', '.join('%d %s' % (summary[outcome], outcome) for outcome in OUTCOMES if summary[outcome])
    if failing:
        shaped.failure = '%d of %d task(s) did not end as asked (%s); every id was tried. First: %s: %s' % (
            len(failing), len(reports), counted, failing[0].task_id, failing[0].message)
        if summary['in_doubt']:
            shaped.failure += ' %d cancel(s) may have been carried out without a usable reply (cancel_in_doubt).' % summary['in_doubt']
    elif summary[NOT_CANCELLABLE]:
        shaped.warnings.append('%d of %d task(s) can no longer be cancelled (outcome not_cancellable; see results); %s.'
                               % (summary[NOT_CANCELLABLE], len(reports), counted))
    return shaped


def job_result(report: JobCancelReport, fail_on_conflict: bool, want_diff: bool, check_mode: bool) -> Shaped:
    fields = _common(report)
    if report.job is not None:
        fields['job'] = report.job
    if want_diff and report.before is not None:
        fields['diff'] = {'before': {'status': report.before}, 'after': {'status': report.after or report.before},
                          'before_header': 'job %s' % report.job_id, 'after_header': 'job %s' % report.job_id}
    return _shape_one(fields, report, fail_on_conflict, check_mode)


def add_failure(shaped: Shaped, message: str) -> None:
    """Fail with ``message`` too: after the failure already there, never instead of it."""
    shaped.failure = '%s %s' % (shaped.failure, message) if shaped.failure else message


def add_wait(shaped: Shaped, wait: WaitReport) -> None:
    """The wait's facts beside the cancels' results (which stay as they are); a wait that did not settle fails the task."""
    shaped.fields['wait'] = wait.fields()
    if wait.status == TIMED_OUT:
        shaped.fields['still_pending'] = wait.still_pending
    if wait.failed:
        add_failure(shaped, wait.message)


def deadline_note(deadline: Deadline, pages_listed: Optional[int] = None) -> str:
    """What to add to a failure when the run's deadline (timeout_total) has passed; '' when it has not.

    ``pages_listed``: for a listing, how many of its pages had been read (nothing of it is returned).
    """
    if not deadline.reached:
        return ''
    if pages_listed is not None:
        return ('The run reached timeout_total (%g s) after reading %d page(s) of the listing, and stopped there; nothing is returned. '
                'Raise timeout_total or rerun later.' % (deadline.seconds or 0, pages_listed))
    return ('The run reached timeout_total (%g s) and stopped there; what was done before is reported. Raise timeout_total or rerun later.'
            % (deadline.seconds or 0))


def note_deadline(exc: GraphMigrationsError, deadline: Deadline, pages_listed: Optional[int] = None) -> GraphMigrationsError:
    """``exc``, its message saying that timeout_total stopped the run when it did."""
    note = deadline_note(deadline, pages_listed)
    if note:
        exc.message = '%s %s' % (exc.message, note)
    return exc


def conclude(shaped: Shaped, warn: Any) -> dict[str, Any]:
    """Emit the warnings; return the result, or raise the failure carrying the same fields."""
    for warning in shaped.warnings:
        warn(warning)
    if shaped.failure:
        raise GraphMigrationsError(shaped.failure, **shaped.fields)
    return shaped.fields
