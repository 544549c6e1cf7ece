# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The cross-tenant migration resources: ids, URLs, workload and job states, and
what they say about whether a cancel can still go through.

The rules for when a cancel is refused are inferred from Microsoft's orchestrator
guide, not documented by Graph (see the API notes and the states guide).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, OptionError, clip

JOBS_PATH = '/solutions/migrations/crossTenantMigrationJobs'

READ_PERMISSION = 'CrossTenantContentMigration.Read.All'
WRITE_PERMISSION = 'CrossTenantContentMigration.ReadWrite.All'
DELEGATED_ROLES = 'the Microsoft 365 Migration Administrator or Global Administrator role'

_GUID = re.compile(r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')

# Workload statuses, compared in lower case (Graph's examples vary the case).
# A workload in one of these blocks a cancel.
BLOCKING_STATUSES = frozenset(s.lower() for s in ('completed', 'failed', 'cancelled', 'pendingCancel', 'finalizing', 'forceComplete'))
CANCEL_IN_EFFECT_STATUSES = frozenset(s.lower() for s in ('pendingCancel', 'cancelled'))
PENDING_CANCEL = 'pendingcancel'
KNOWN_STATUSES = BLOCKING_STATUSES | frozenset(s.lower() for s in (
    'notStarted', 'valid', 'invalid', 'error', 'inProgress', 'syncing', 'synced', 'unknownFutureValue'))
STATUS_AFTER_CANCEL = 'pendingCancel'
# Job statuses in which nothing in the job can be cancelled (Microsoft's orchestrator guide).
JOB_BLOCKING_STATUSES = frozenset(s.lower() for s in (
    'cuttingOver', 'completed', 'completedWithErrors', 'failed', 'cancelled', 'pendingCancel', 'pendingDelete', 'deleted'))
JOB_CANCEL_IN_EFFECT_STATUSES = frozenset(s.lower() for s in ('pendingCancel', 'cancelled'))
_FRACTION = re.compile(r'\.(\d{6})\d+')

# How much older than our first attempt a task's lastUpdatedDateTime may be and still be our
# cancel: Entra ID's own tolerance for clock skew between a client and Microsoft.
EVIDENCE_SKEW_SECONDS = 300

# What a task's workloads and its job say, in one word (the info module's filter and
# the conflict_reason of a refused cancel).
CANCELLABLE = 'cancellable'
ALREADY_CANCELLED = 'already_cancelled'
NOT_CANCELLABLE = 'not_cancellable'
STATES = (CANCELLABLE, ALREADY_CANCELLED, NOT_CANCELLABLE)
# Where the workloads are, in one word.
PROGRESS = ('not_started', 'in_progress', 'pending_cancel', 'cancelled', 'completed', 'failed')
_NOT_STARTED_STATUSES = frozenset(s.lower() for s in ('notStarted', 'valid'))
_FAILED_STATUSES = frozenset(s.lower() for s in ('failed', 'error', 'invalid'))


def validate_guid(option: str, value: Any) -> str:
    """``value`` as a lower-case GUID; anything else fails naming ``option``."""
    # fullmatch on a str: no trailing newline, suffix, path or percent-encoding slips through.
    if not isinstance(value, str) or not _GUID.fullmatch(value):
        raise OptionError(option, 'a GUID such as 6a88de8d-7027-44c1-8674-03f826aa1704, got %s' % clip(value))
    return value.lower()


def validate_guid_list(option: str, values: Any, limit: int) -> list[str]:
    """``values`` as lower-case GUIDs in their first order, duplicates (in any case) once."""
    if not isinstance(values, list) or not values:
        raise OptionError(option, 'a non-empty list of GUIDs')
    if len(values) > limit:
        raise OptionError(option, 'at most %d GUIDs, got %d' % (limit, len(values)))
    unique: dict[str, None] = {}
    for index, value in enumerate(values):
        unique.setdefault(validate_guid('%s[%d]' % (option, index), value), None)
    return list(unique)


def job_path(job_id: str) -> str:
    return '%s/%s' % (JOBS_PATH, job_id)


def job_cancel_path(job_id: str) -> str:
    return job_path(job_id) + '/cancel'


def tasks_path(job_id: str) -> str:
    return job_path(job_id) + '/users'


def task_path(job_id: str, task_id: str) -> str:
    return '%s/%s' % (tasks_path(job_id), task_id)


def task_cancel_path(job_id: str, task_id: str) -> str:
    return task_path(job_id, task_id) + '/cancel'


def permission_hint(write: bool) -> str:
    if write:
        return ('The app needs the Graph permission %s, granted with admin consent in the target tenant '
                '(delegated tokens also need %s).' % (WRITE_PERMISSION, DELEGATED_ROLES))
    return ('The app needs the Graph permission %s (or %s), granted with admin consent in the target tenant.'
            % (READ_PERMISSION, WRITE_PERMISSION))


def is_task(body: Any) -> bool:
    """Whether ``body`` has a task's shape: an id and a list of workload statuses."""
    return isinstance(body, dict) and isinstance(body.get('id'), str) and isinstance(body.get('currentStatus', []), list)


def is_job(body: Any) -> bool:
    """Whether ``body`` has a job's shape: an id and a status."""
    return isinstance(body, dict) and isinstance(body.get('id'), str) and isinstance(body.get('status', ''), str)


def workload_statuses(task: Any) -> dict[str, str]:
    """``{service: status}`` from a task's ``currentStatus`` list."""
    statuses: dict[str, str] = {}
    entries = task.get('currentStatus') if isinstance(task, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get('service'):
            statuses[str(entry['service'])] = str(entry.get('status') or '')
    return statuses


def parse_graph_datetime(value: Any) -> Optional[datetime.datetime]:
    """A Graph DateTimeOffset (``2026-07-01T00:00:00Z``, up to 7 fractional digits), or None."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(r'.\1', value.strip()).replace('Z', '+00:00').replace('z', '+00:00')
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def job_cancel_blocker(job: Any, now: Optional[datetime.datetime] = None) -> Optional[str]:
    """Why nothing in ``job`` can be cancelled any more, or None."""
    if not isinstance(job, dict):
        return None
    status = str(job.get('status') or '')
    if status.lower() in JOB_BLOCKING_STATUSES:
        return 'the job is %s' % status
    complete_after = parse_graph_datetime(job.get('completeAfterDateTime'))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if complete_after is not None and complete_after <= now:
        return "the job's completeAfterDateTime %s has passed" % job['completeAfterDateTime']
    return None


@dataclass(frozen=True)
class TaskAssessment:
    """What a task's workloads (and its job) say about cancelling it."""

    statuses: dict[str, str]
    blocking: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    job_blocker: Optional[str] = None

    @property
    def cancel_in_effect(self) -> bool:
        """Every workload is pendingCancel or cancelled."""
        return bool(self.statuses) and all(s.lower() in CANCEL_IN_EFFECT_STATUSES for s in self.statuses.values())

    @property
    def pending_cancel(self) -> list[str]:
        """The workloads still pendingCancel."""
        return sorted(svc for svc, status in self.statuses.items() if status.lower() == PENDING_CANCEL)

    @property
    def state(self) -> str:
        """cancellable, already_cancelled or not_cancellable."""
        if self.cancel_in_effect:
            return ALREADY_CANCELLED
        if self.blocking or self.job_blocker:
            return NOT_CANCELLABLE
        return CANCELLABLE

    @property
    def progress(self) -> str:
        """not_started, in_progress, pending_cancel, cancelled, completed or failed."""
        statuses = [status.lower() for status in self.statuses.values()]
        if statuses and all(status == 'cancelled' for status in statuses):
            return 'cancelled'
        if self.cancel_in_effect:
            return 'pending_cancel'
        if any(status in _FAILED_STATUSES for status in statuses):
            return 'failed'
        if statuses and all(status == 'completed' for status in statuses):
            return 'completed'
        if all(status in _NOT_STARTED_STATUSES for status in statuses):
            return 'not_started'
        return 'in_progress'

    @property
    def reason(self) -> str:
        """Why the state is what it is, in words."""
        if self.cancel_in_effect:
            return 'every workload is pendingCancel or cancelled (%s)' % self.describe(self.statuses)
        if self.blocking:
            return 'workload %s' % self.describe(self.blocking)
        if self.job_blocker:
            return self.job_blocker
        return 'no workload is past the point where a cancel is possible'

    @staticmethod
    def describe(statuses: dict[str, str]) -> str:
        return ', '.join('%s is %s' % item for item in sorted(statuses.items()))


def assess_task(task: Any, job_blocker: Optional[str] = None) -> TaskAssessment:
    statuses = workload_statuses(task)
    return TaskAssessment(
        statuses=statuses,
        blocking={svc: st for svc, st in statuses.items() if st.lower() in BLOCKING_STATUSES},
        unknown={svc: st for svc, st in statuses.items() if st.lower() not in KNOWN_STATUSES},
        job_blocker=job_blocker,
    )


def changed_since(resource: Any, first_sent_at: float) -> Optional[bool]:
    """Whether ``resource``'s lastUpdatedDateTime is not clearly older than ``first_sent_at``
    (epoch seconds), allowing EVIDENCE_SKEW_SECONDS of clock skew; None when it has none."""
    updated = parse_graph_datetime(resource.get('lastUpdatedDateTime') if isinstance(resource, dict) else None)
    if updated is None or not first_sent_at:
        return None
    return updated.timestamp() >= first_sent_at - EVIDENCE_SKEW_SECONDS


def require_shape(body: Any, kind: str, what: str, expected_id: Optional[str] = None) -> dict[str, Any]:
    """``body`` when it is a ``kind`` (task or job) with the id asked for (``expected_id``, in any case),
    else a failure saying what came instead."""
    if (is_task if kind == 'task' else is_job)(body):
        if expected_id is None or body['id'].lower() == expected_id.lower():
            return body
        # Not the resource asked for: a cache, a proxy or a wrong endpoint answered for another one.
        raise GraphMigrationsError('Reading %s returned %s %s instead, so the reply was refused and nothing was judged from it (a proxy or '
                                   'a wrong graph_endpoint may have answered).' % (what, kind, clip(body['id'], 60)))
    shown = 'a reply that is not JSON' if body is None or isinstance(body, str) else 'JSON of another shape (%s)' % type(body).__name__
    raise GraphMigrationsError('Reading %s returned %s, not a %s; nothing can be judged from it (a proxy or a wrong '
                               'graph_endpoint may have answered).' % (what, shown, kind))


# What the collection keeps of a task (all that its rules and results use; task_info documents these).
TASK_FIELDS = ('id', 'taskType', 'lastUpdatedDateTime', 'currentStatus')
WORKLOAD_FIELDS = ('service', 'status', 'message', 'errors')


def task_fields(task: Any) -> Any:
    """``task`` with only TASK_FIELDS (each workload with WORKLOAD_FIELDS); other shapes as they are,
    so that the rules still see what was odd about them."""
    if not isinstance(task, dict):
        return task
    kept = {name: task[name] for name in TASK_FIELDS if name in task}
    workloads = kept.get('currentStatus')
    if isinstance(workloads, list):
        kept['currentStatus'] = [{name: entry[name] for name in WORKLOAD_FIELDS if name in entry} if isinstance(entry, dict) else entry
                                 for entry in workloads]
    return kept


def index_tasks(items: list[Any], what: str) -> dict[str, dict[str, Any]]:
    """A listing's tasks by lower-case id. An item without a usable id (a GUID), or one id listed twice with
    different contents, fails the whole listing: dropping or choosing one would judge tasks silently.
    The same task listed twice alike (pages that overlap) is taken once."""
    tasks: dict[str, dict[str, Any]] = {}
    without_id: list[Any] = []
    differing: list[str] = []
    for item in items:
        task_id = item.get('id') if isinstance(item, dict) else None
        if not isinstance(task_id, str) or not _GUID.fullmatch(task_id):
            without_id.append(item)
            continue
        key = task_id.lower()
        entry = dict(item, id=key)
        if key not in tasks:
            tasks[key] = item
        elif dict(tasks[key], id=key) != entry and key not in differing:
            differing.append(key)
    if without_id:
        raise GraphMigrationsError('Listing %s returned %d item(s) without a usable task id (a GUID), the first: %s; a proxy or a wrong '
                                   'graph_endpoint may have answered, so nothing was judged from the listing. Run again, or read a task '
                                   'with task_id.' % (what, len(without_id), clip(without_id[0], 120)))
    if differing:
        raise GraphMigrationsError('Listing %s returned %d task(s) more than once with different contents (%s); the listing changed while '
                                   'it was paged, or a proxy answered, so nothing was judged from it. Run again.'
                                   % (what, len(differing), ', '.join(differing[:5]) + (', ...' if len(differing) > 5 else '')))
    return tasks
