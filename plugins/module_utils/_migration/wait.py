# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Waiting for cancels to take effect: polling with backoff until nothing is
``pendingCancel`` any more, bounded by the caller's deadline (``wait_timeout``)."""

from __future__ import annotations

import time
from typing import Any, Callable

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import PENDING_CANCEL, assess_task

FIRST_POLL_SECONDS = 1.0
LONGEST_POLL_SECONDS = 15.0
MAX_POLLS = 1000


class WaitTimeout(GraphMigrationsError):
    """``wait_timeout`` passed with something still ``pendingCancel``."""

    def __init__(self, what: str, still_pending: list[str], seconds: float, latest: Any) -> None:
        shown = ', '.join(still_pending[:20]) + (' and %d more' % (len(still_pending) - 20) if len(still_pending) > 20 else '')
        super().__init__('Waited %g s (wait_timeout) and %s still pendingCancel: %s. The cancel was accepted; Graph has not finished it yet.'
                         % (seconds, what, shown), still_pending=still_pending)
        self.latest = latest


def _poll(read: Callable[[], Any], pending_of: Callable[[Any], list[str]], what: str, deadline: Deadline,
          sleep: Callable[[float], None]) -> Any:
    delay = FIRST_POLL_SECONDS
    for _poll_number in range(MAX_POLLS):
        latest = read()
        pending = pending_of(latest)
        if not pending:
            return latest
        if deadline.remaining() <= delay:
            raise WaitTimeout(what, pending, deadline.seconds or 0, latest)
        sleep(delay)
        delay = min(delay * 2, LONGEST_POLL_SECONDS)
    raise WaitTimeout(what, pending_of(latest), deadline.seconds or 0, latest)


def wait_for_tasks(read_tasks: Callable[[], dict[str, Any]], task_ids: list[str], deadline: Deadline,
                   sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Poll ``read_tasks`` (task id -> task) until none of ``task_ids`` has a workload pendingCancel.

    A task missing from what ``read_tasks`` returns is not waited for.
    """
    def pending_of(tasks: dict[str, Any]) -> list[str]:
        return [task_id for task_id in task_ids if task_id in tasks and assess_task(tasks[task_id]).pending_cancel]

    return _poll(read_tasks, pending_of, 'this task is' if len(task_ids) == 1 else 'these tasks are', deadline, sleep)


def wait_for_job(read_job: Callable[[], dict[str, Any]], job_id: str, deadline: Deadline,
                 sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Poll ``read_job`` until the job's status is no longer pendingCancel."""
    def pending_of(job: dict[str, Any]) -> list[str]:
        return [job_id] if str(job.get('status') or '').lower() == PENDING_CANCEL else []

    return _poll(read_job, pending_of, 'this job is', deadline, sleep)
