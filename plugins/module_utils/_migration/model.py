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
# Graph's placeholder for a value added after the API version called: it says nothing about where the workload is.
UNKNOWN_FUTURE_VALUE = 'unknownfuturevalue'
# The statuses a prediction may rest on.
JUDGED_STATUSES = KNOWN_STATUSES - {UNKNOWN_FUTURE_VALUE}
STATUS_AFTER_CANCEL = 'pendingCancel'
# Job statuses in which nothing in the job can be cancelled (Microsoft's orchestrator guide).
JOB_BLOCKING_STATUSES = frozenset(s.lower() for s in (
    'cuttingOver', 'completed', 'completedWithErrors', 'failed', 'cancelled', 'pendingCancel', 'pendingDelete', 'deleted'))
JOB_CANCEL_IN_EFFECT_STATUSES = frozenset(s.lower() for s in ('pendingCancel', 'cancelled'))
# Every job status Graph documents, but unknownFutureValue (see UNKNOWN_FUTURE_VALUE).
JOB_JUDGED_STATUSES = JOB_BLOCKING_STATUSES | frozenset(s.lower() for s in (
    'submitted', 'approved', 'processing', 'inProgress', 'adminActionRequired', 'validateSubmitted', 'validateProcessing',
    'validateInProgress', 'validatePassed', 'validateFailed'))
# How much of a status string a server sent is repeated in a reason.
_STATUS_ECHO = 40
_FRACTION = re.compile(r'\.(\d{6})\d+')

# How much older than our first attempt a task's lastUpdatedDateTime may be and still be our
# cancel: Entra ID's own tolerance for clock skew between a client and Microsoft.
EVIDENCE_SKEW_SECONDS = 300

# What a task's workloads and its job say, in one word (the info module's filter and
# the conflict_reason of a refused cancel).
CANCELLABLE = 'cancellable'
ALREADY_CANCELLED = 'already_cancelled'
NOT_CANCELLABLE = 'not_cancellable'
# The data cannot be judged (no workloads, a status this collection does not know, ...): never predicted cancellable.
UNKNOWN = 'unknown'
STATES = (CANCELLABLE, ALREADY_CANCELLED, NOT_CANCELLABLE, UNKNOWN)
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


# Graph's answer to a path it has no resource for: 400 BadRequest (also seen as 404 with ResourceNotFound and other
# codes) "Resource not found for the segment 'migrations'." No error code is specific to it, so the words decide.
_SEGMENT_NOT_FOUND = re.compile(r"resource\s+not\s+found\s+for\s+(?:the\s+)?segment\b\s*['\"]?([^'\"\s]*)", re.IGNORECASE)
SEGMENT_ERROR_STATUSES = (400, 404)
BETA = 'beta'


def missing_segment(status: Any, message: Any) -> Optional[str]:
    """The segment Graph says it has no resource for (``''`` when unnamed), or None when the reply says nothing of the kind."""
    if status not in SEGMENT_ERROR_STATUSES or not isinstance(message, str):
        return None
    match = _SEGMENT_NOT_FOUND.search(message)
    return clip(match.group(1).rstrip('.'), 40) if match else None


def api_version_hint(status: Any, message: Any, api_version: str) -> Optional[str]:
    """What to do when Graph says a resource segment does not exist on ``api_version``, or None for any other reply."""
    segment = missing_segment(status, message)
    if segment is None:
        return None
    named = "the resource segment '%s'" % segment if segment else 'a resource segment of this request'
    if (api_version or '').lower() == BETA:
        return ('Graph beta does not know %s: api_version is already beta, so the cross-tenant migration API is not available at this '
                'graph_endpoint (Graph offers it in the global cloud only); check graph_endpoint and cloud.' % named)
    version = 'Graph %s' % api_version if api_version else 'This Graph API version'
    return ('%s does not know %s: Microsoft Learn documents the cross-tenant migration API on v1.0, but Graph has not always published '
            'it there. Set api_version: beta.' % (version, named))


def is_task(body: Any) -> bool:
    """Whether ``body`` has a task's shape: an object with an id. Its ``currentStatus`` is judged by assess_task,
    so a task with odd workloads is reported as such rather than refused as "not a task"."""
    return isinstance(body, dict) and isinstance(body.get('id'), str)


def is_job(body: Any) -> bool:
    """Whether ``body`` has a job's shape: an object with an id (its status is judged by job_status_doubt)."""
    return isinstance(body, dict) and isinstance(body.get('id'), str)


def _shown(value: Any) -> str:
    """A status a server sent, quoted so that case and spaces show (``'completed '``), and clipped."""
    return repr(clip(value, _STATUS_ECHO)) if isinstance(value, str) else clip(value, _STATUS_ECHO)


def _type_name(value: Any) -> str:
    return {str: 'a string', dict: 'an object', list: 'a list', bool: 'a boolean', int: 'a number', float: 'a number'}.get(
        type(value), type(value).__name__)


@dataclass(frozen=True)
class Workloads:
    """What a task's ``currentStatus`` says: service to status (the first entry of each service), the blocking
    statuses of any entry, and what in it cannot be judged."""

    statuses: dict[str, str]
    blocking: dict[str, str]
    odd: tuple[str, ...]
    # Every entry (duplicates included) names a service that is pendingCancel or cancelled.
    cancel_in_effect: bool = False


def _status_oddity(service: str, status: Any) -> Optional[str]:
    if not isinstance(status, str) or not status:
        return 'workload %s has no status' % service if status in (None, '') else 'workload %s has %s as its status' % (service, _type_name(status))
    if status.lower() == UNKNOWN_FUTURE_VALUE:
        return ("workload %s is unknownFutureValue (Graph's placeholder for a status newer than the API version called)" % service)
    if status.lower() not in JUDGED_STATUSES:
        return 'workload %s is %s, a status this collection does not know' % (service, _shown(status))
    return None


def read_workloads(task: Any) -> Workloads:
    """The one reading of a task's ``currentStatus`` every prediction rests on."""
    entries = task.get('currentStatus') if isinstance(task, dict) else None
    if entries is None:
        return Workloads({}, {}, ('the task has no currentStatus',))
    if not isinstance(entries, list):
        return Workloads({}, {}, ('its currentStatus is %s, not a list of workloads' % _type_name(entries),))
    if not entries:
        return Workloads({}, {}, ('its currentStatus lists no workload',))
    statuses: dict[str, str] = {}
    blocking: dict[str, str] = {}
    odd: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        service = entry.get('service') if isinstance(entry, dict) else None
        if not isinstance(service, str) or not service.strip():
            odd.append('currentStatus[%d] names no service' % index if isinstance(entry, dict)
                       else 'currentStatus[%d] is %s, not a workload' % (index, _type_name(entry)))
            continue
        status = entry.get('status')
        text = status if isinstance(status, str) else ('' if status is None else clip(status, _STATUS_ECHO))
        if isinstance(status, str) and status.lower() in BLOCKING_STATUSES:
            # Any entry that blocks, a duplicate's included: one blocking workload is enough for a 409.
            blocking.setdefault(service, status)
        if service.lower() in seen:
            odd.append('workload %s is listed twice' % service)
            continue
        seen.add(service.lower())
        statuses[service] = text
        oddity = _status_oddity(service, status)
        if oddity:
            odd.append(oddity)
    in_effect = all(isinstance(entry, dict) and isinstance(entry.get('service'), str) and entry['service'].strip()
                    and isinstance(entry.get('status'), str) and entry['status'].lower() in CANCEL_IN_EFFECT_STATUSES for entry in entries)
    return Workloads(statuses, blocking, tuple(odd), in_effect)


def workload_statuses(task: Any) -> dict[str, str]:
    """``{service: status}`` from a task's ``currentStatus`` list."""
    return read_workloads(task).statuses


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
    status = job.get('status')
    if isinstance(status, str) and status.lower() in JOB_BLOCKING_STATUSES:
        return 'the job is %s' % status
    complete_after = parse_graph_datetime(job.get('completeAfterDateTime'))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if complete_after is not None and complete_after <= now:
        return "the job's completeAfterDateTime %s has passed" % job['completeAfterDateTime']
    return None


def job_status_doubt(job: Any) -> Optional[str]:
    """What in ``job``'s status cannot be judged (missing, unknownFutureValue, a value this collection does not know), or None."""
    status = job.get('status') if isinstance(job, dict) else None
    if status is None or status == '':
        return 'the job has no status'
    if not isinstance(status, str):
        return "the job's status is %s, not a string" % _type_name(status)
    if status.lower() == UNKNOWN_FUTURE_VALUE:
        return "the job's status is unknownFutureValue (Graph's placeholder for a status newer than the API version called)"
    if status.lower() not in JOB_JUDGED_STATUSES:
        return "the job's status %s is one this collection does not know" % _shown(status)
    return None


def job_status_text(job: Any) -> str:
    """A job's status for a diff: never "None" for a missing one."""
    status = job.get('status') if isinstance(job, dict) else None
    if status is None or status == '':
        return '(no status)'
    return status if isinstance(status, str) else clip(status, _STATUS_ECHO)


@dataclass(frozen=True)
class TaskAssessment:
    """What a task's workloads (and its job) say about cancelling it.

    ``odd`` lists what cannot be judged in the task, ``job_doubt`` what cannot be judged in its job's status. A task
    that is cancelled, or has a known blocker, is judged whatever else it holds; otherwise odd data makes it
    ``unknown``, never ``cancellable``.
    """

    statuses: dict[str, str]
    blocking: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    job_blocker: Optional[str] = None
    odd: tuple[str, ...] = ()
    job_doubt: Optional[str] = None
    every_entry_cancelled: Optional[bool] = None

    @property
    def cancel_in_effect(self) -> bool:
        """Every workload is pendingCancel or cancelled."""
        if self.every_entry_cancelled is not None:
            return self.every_entry_cancelled
        return bool(self.statuses) and all(s.lower() in CANCEL_IN_EFFECT_STATUSES for s in self.statuses.values())

    @property
    def pending_cancel(self) -> list[str]:
        """The workloads still pendingCancel."""
        return sorted(svc for svc, status in self.statuses.items() if status.lower() == PENDING_CANCEL)

    @property
    def state(self) -> str:
        """cancellable, already_cancelled, not_cancellable or unknown."""
        if self.cancel_in_effect:
            return ALREADY_CANCELLED
        if self.blocking or self.job_blocker:
            return NOT_CANCELLABLE
        if self.odd or self.job_doubt:
            return UNKNOWN
        return CANCELLABLE

    @property
    def progress(self) -> str:
        """not_started, in_progress, pending_cancel, cancelled, completed or failed."""
        statuses = [status.lower() for status in self.statuses.values()]
        if statuses and all(status == 'cancelled' for status in statuses):
            return 'cancelled'
        if statuses and all(s in CANCEL_IN_EFFECT_STATUSES for s in statuses):
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
        if self.odd or self.job_doubt:
            return 'this collection cannot judge it: %s' % self.oddities
        return 'no workload is past the point where a cancel is possible'

    @property
    def oddities(self) -> str:
        """What cannot be judged, in words ('' when nothing)."""
        return '; '.join(self.odd + ((self.job_doubt,) if self.job_doubt else ()))

    @staticmethod
    def describe(statuses: dict[str, str]) -> str:
        return ', '.join('%s is %s' % item for item in sorted(statuses.items()))


def assess_task(task: Any, job_blocker: Optional[str] = None, job_doubt: Optional[str] = None) -> TaskAssessment:
    """The one rule for what a cancel of ``task`` would meet: check mode (one or many) and task_info alike.

    ``job_blocker`` is job_cancel_blocker(job); ``job_doubt`` is job_status_doubt(job), for a job whose status
    cannot be judged (the task's cancel then cannot be predicted either).
    """
    workloads = read_workloads(task)
    return TaskAssessment(
        statuses=workloads.statuses,
        blocking=workloads.blocking,
        unknown={svc: st for svc, st in workloads.statuses.items() if st.lower() not in KNOWN_STATUSES},
        job_blocker=job_blocker,
        odd=workloads.odd,
        job_doubt=job_doubt,
        every_entry_cancelled=workloads.cancel_in_effect,
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
