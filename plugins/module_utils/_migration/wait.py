# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Waiting for cancels to take effect: polling with backoff until nothing is
``pendingCancel`` any more, bounded by the wait's own deadline (``wait_timeout``).

The outcome is data (``WaitReport``): settled, timed out, a read that failed, or
tasks no longer listed. The cancels' results never depend on it: the module layer
reports the wait beside them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, GraphRequestError
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import PENDING_CANCEL, assess_task

FIRST_POLL_SECONDS = 1.0
LONGEST_POLL_SECONDS = 15.0
MAX_POLLS = 1000
SHOWN_IDS = 20

SETTLED = 'settled'
TIMED_OUT = 'timed_out'
READ_FAILED = 'read_failed'
MISSING = 'missing'


def _shown(ids: list[str]) -> str:
    more = len(ids) - SHOWN_IDS
    return ', '.join(ids[:SHOWN_IDS]) + (' and %d more' % more if more > 0 else '')


def _timeout_message(subject: str, still_pending: list[str], seconds: float) -> str:
    return ('Waited %g s (wait_timeout) and %s still pendingCancel: %s. The cancel was accepted; Graph has not finished it yet.'
            % (seconds, subject, _shown(still_pending)))


class WaitTimeout(GraphMigrationsError):
    """``wait_timeout`` passed with something still ``pendingCancel``."""

    def __init__(self, message: str, still_pending: list[str], latest: Any) -> None:
        super().__init__(message, still_pending=still_pending)
        self.latest = latest


@dataclass
class WaitReport:  # pylint: disable=too-many-instance-attributes
    """How a wait ended. ``latest`` is the last successful read (None when none succeeded)."""

    status: str
    seconds: float
    polls: int
    message: str = ''
    latest: Any = None
    still_pending: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    error: Optional[dict[str, Any]] = None
    # For tasks: each task waited for as last read (a task missing from the last read keeps what an earlier one showed).
    last_seen: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status != SETTLED

    def fields(self) -> dict[str, Any]:
        """The ``wait`` return value."""
        return {'status': self.status, 'seconds': self.seconds, 'polls': self.polls, 'still_pending': self.still_pending,
                'missing': self.missing, 'error': self.error, 'message': self.message}


@dataclass
class _Polled:
    latest: Any
    pending: list[str]
    polls: int
    seconds: float
    failure: Optional[GraphMigrationsError] = None


def wait_deadlines(run: Deadline, wait_timeout: float) -> tuple[Deadline, Deadline]:
    """The wait's own deadline (no poll starts after it), and the one its reads run under.

    The reads get what is left of the run's deadline (``timeout_total``) plus ``wait_timeout``: a poll
    sent at the wait's deadline still has time to finish, and the run never passes
    ``timeout_total`` + ``wait_timeout``.
    """
    return Deadline(wait_timeout), Deadline(run.remaining() + wait_timeout)


def _poll(read: Callable[[], Any], pending_of: Callable[[Any], list[str]], deadline: Deadline,
          sleep: Callable[[float], None]) -> _Polled:
    """Read until nothing is pending, a read fails, or the deadline has passed; the last poll is at the deadline."""
    delay = FIRST_POLL_SECONDS
    latest: Any = None
    pending: list[str] = []
    polls = 0
    for polls in range(1, MAX_POLLS + 1):
        try:
            latest = read()
        except GraphMigrationsError as exc:
            return _Polled(latest, pending, polls, deadline.elapsed(), exc)
        pending = pending_of(latest)
        left = deadline.remaining()
        if not pending or left <= 0:
            break
        # Never sleep past the deadline, and poll once more at it: a cancel finishing late is still seen.
        sleep(min(delay, left))
        delay = min(delay * 2, LONGEST_POLL_SECONDS)
    return _Polled(latest, pending, polls, deadline.elapsed())


def _rounded(seconds: float) -> float:
    return round(seconds, 1)


def _read_error(exc: GraphMigrationsError) -> dict[str, Any]:
    error = dict(exc.result.get('error') or {})
    if isinstance(exc, GraphRequestError):
        error.update(status=exc.status, request_id=exc.request_id)
    return error


def _report(polled: _Polled, what: str, subject: str, accepted: str) -> WaitReport:
    """``what`` names what was waited for in a sentence; ``subject`` starts the timeout's clause (``these tasks are``)."""
    seconds = _rounded(polled.seconds)
    if polled.failure is not None:
        message = ('Waiting for %s stopped after %g s (%d poll(s)) because a read failed: %s %s Whether Graph has finished it is not known.'
                   % (what, seconds, polled.polls, polled.failure.message, accepted))
        return WaitReport(READ_FAILED, seconds, polled.polls, message, polled.latest, polled.pending, error=_read_error(polled.failure))
    if polled.pending:
        return WaitReport(TIMED_OUT, seconds, polled.polls, _timeout_message(subject, polled.pending, seconds), polled.latest, polled.pending)
    return WaitReport(SETTLED, seconds, polled.polls, 'Waited %g s (%d poll(s)): nothing is pendingCancel any more.' % (seconds, polled.polls),
                      polled.latest)


def watch_tasks(read_tasks: Callable[[], dict[str, Any]], task_ids: list[str], deadline: Deadline,
                sleep: Callable[[float], None] = time.sleep) -> WaitReport:
    """Poll ``read_tasks`` (task id -> task) until none of ``task_ids`` has a workload pendingCancel.

    A task missing from a read is not waited for, but it is not settled either: when it is still
    missing from the last read, the report says so (``missing``) and the wait counts as failed.
    """
    seen: dict[str, Any] = {}

    def read() -> dict[str, Any]:
        tasks = read_tasks()
        seen.update((task_id, tasks[task_id]) for task_id in task_ids if task_id in tasks)
        return tasks

    def pending_of(tasks: dict[str, Any]) -> list[str]:
        return [task_id for task_id in task_ids if task_id in tasks and assess_task(tasks[task_id]).pending_cancel]

    one = len(task_ids) == 1
    report = _report(_poll(read, pending_of, deadline, sleep), 'the task' if one else 'the tasks',
                     'this task is' if one else 'these tasks are', 'The cancel was accepted.' if one else 'The cancels were accepted.')
    report.last_seen = seen
    if report.status in (SETTLED, TIMED_OUT) and isinstance(report.latest, dict):
        report.missing = [task_id for task_id in task_ids if task_id not in report.latest]
    if report.missing and report.status == SETTLED:
        report.status = MISSING
        report.message = ('After waiting %g s, %d task(s) waited for %s no longer in the listing of the job: %s. Whether their cancel '
                          'finished cannot be told; check them with msgraph.migrations.crosstenant_migration_task_info.'
                          % (report.seconds, len(report.missing), 'is' if len(report.missing) == 1 else 'are', _shown(report.missing)))
    elif report.missing:
        report.message += ' Also no longer in the listing of the job: %s.' % _shown(report.missing)
    return report


def watch_job(read_job: Callable[[], dict[str, Any]], job_id: str, deadline: Deadline,
              sleep: Callable[[float], None] = time.sleep) -> WaitReport:
    """Poll ``read_job`` until the job's status is no longer pendingCancel."""
    def pending_of(job: dict[str, Any]) -> list[str]:
        return [job_id] if str(job.get('status') or '').lower() == PENDING_CANCEL else []

    return _report(_poll(read_job, pending_of, deadline, sleep), 'the job', 'this job is', 'The cancel was accepted.')


def _raise_unless_settled(report: WaitReport) -> Any:
    if report.status == READ_FAILED:
        raise GraphMigrationsError(report.message, wait=report.fields())
    if report.status == TIMED_OUT:
        raise WaitTimeout(report.message, report.still_pending, report.latest)
    return report.latest


def wait_for_tasks(read_tasks: Callable[[], dict[str, Any]], task_ids: list[str], deadline: Deadline,
                   sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """``watch_tasks`` raising: WaitTimeout when it timed out, GraphMigrationsError when a read failed.

    Tasks missing from the last read are left out of what it returns.
    """
    return _raise_unless_settled(watch_tasks(read_tasks, task_ids, deadline, sleep))


def wait_for_job(read_job: Callable[[], dict[str, Any]], job_id: str, deadline: Deadline,
                 sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """``watch_job`` raising, as ``wait_for_tasks``."""
    return _raise_unless_settled(watch_job(read_job, job_id, deadline, sleep))
