# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The cross-tenant migration resources: ids, URLs, workload states, and what a
cancel's reply means. Modules stay thin; this is where the rules live."""

from __future__ import annotations

import datetime
import enum
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils.errors import GraphMigrationsError, OptionError
from ansible_collections.msgraph.migrations.plugins.module_utils.graph_client import GraphClient, GraphResponse

JOBS_PATH = '/solutions/migrations/crossTenantMigrationJobs'

READ_PERMISSION = 'CrossTenantContentMigration.Read.All'
WRITE_PERMISSION = 'CrossTenantContentMigration.ReadWrite.All'
DELEGATED_ROLES = 'the Microsoft 365 Migration Administrator or Global Administrator role'

_GUID = re.compile(r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')

# Workload statuses, compared in lower case (Graph's examples vary the case).
# A workload in one of these blocks a cancel (inferred from Microsoft's guide; see the API notes).
BLOCKING_STATUSES = frozenset(s.lower() for s in ('completed', 'failed', 'cancelled', 'pendingCancel', 'finalizing', 'forceComplete'))
CANCEL_IN_EFFECT_STATUSES = frozenset(s.lower() for s in ('pendingCancel', 'cancelled'))
KNOWN_STATUSES = BLOCKING_STATUSES | frozenset(s.lower() for s in (
    'notStarted', 'valid', 'invalid', 'error', 'inProgress', 'syncing', 'synced', 'unknownFutureValue'))
STATUS_AFTER_CANCEL = 'pendingCancel'
# Job statuses in which nothing in the job can be cancelled (Microsoft's orchestrator guide).
JOB_BLOCKING_STATUSES = frozenset(s.lower() for s in (
    'cuttingOver', 'completed', 'completedWithErrors', 'failed', 'cancelled', 'pendingCancel', 'pendingDelete', 'deleted'))
_FRACTION = re.compile(r'\.(\d{6})\d+')


def validate_guid(option: str, value: Any) -> str:
    """``value`` as a lower-case GUID; anything else fails naming ``option``."""
    # fullmatch on a str: no trailing newline, suffix, path or percent-encoding slips through.
    if not isinstance(value, str) or not _GUID.fullmatch(value):
        raise OptionError(option, 'a GUID such as 6a88de8d-7027-44c1-8674-03f826aa1704, got %r' % (value,))
    return value.lower()


def job_path(job_id: str) -> str:
    return '%s/%s' % (JOBS_PATH, job_id)


def task_path(job_id: str, task_id: str) -> str:
    return '%s/%s/users/%s' % (JOBS_PATH, job_id, task_id)


def task_cancel_path(job_id: str, task_id: str) -> str:
    return task_path(job_id, task_id) + '/cancel'


def permission_hint(write: bool) -> str:
    if write:
        return ('The app needs the Graph permission %s, granted with admin consent in the target tenant '
                '(delegated tokens also need %s).' % (WRITE_PERMISSION, DELEGATED_ROLES))
    return ('The app needs the Graph permission %s (or %s), granted with admin consent in the target tenant.'
            % (READ_PERMISSION, WRITE_PERMISSION))


def workload_statuses(task: Any) -> dict[str, str]:
    """``{service: status}`` from a task's ``currentStatus`` list."""
    statuses: dict[str, str] = {}
    entries = task.get('currentStatus') if isinstance(task, dict) else None
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get('service'):
            statuses[str(entry['service'])] = str(entry.get('status') or '')
    return statuses


@dataclass(frozen=True)
class TaskAssessment:
    """Whether a task can still be cancelled, judged from its workloads."""

    statuses: dict[str, str]
    blocking: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)

    @property
    def cancellable(self) -> bool:
        return not self.blocking

    @property
    def cancel_in_effect(self) -> bool:
        """Every workload is pendingCancel or cancelled."""
        return bool(self.statuses) and all(s.lower() in CANCEL_IN_EFFECT_STATUSES for s in self.statuses.values())

    def describe_blocking(self) -> str:
        return ', '.join('%s is %s' % item for item in sorted(self.blocking.items()))


def assess_task(task: Any) -> TaskAssessment:
    statuses = workload_statuses(task)
    return TaskAssessment(
        statuses=statuses,
        blocking={svc: st for svc, st in statuses.items() if st.lower() in BLOCKING_STATUSES},
        unknown={svc: st for svc, st in statuses.items() if st.lower() not in KNOWN_STATUSES},
    )


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


class CancelVerdict(enum.Enum):
    ACCEPTED = 'accepted'
    CONFLICT = 'conflict'
    NOT_FOUND = 'not_found'
    FAILED = 'failed'


def judge_cancel_status(status: int) -> CancelVerdict:
    """What a cancel's HTTP status means: the one rule for single and batched cancels."""
    if 200 <= status < 300:  # 202 documented; an older draft said 200
        return CancelVerdict.ACCEPTED
    if status == 409:
        return CancelVerdict.CONFLICT
    if status == 404:
        return CancelVerdict.NOT_FOUND
    return CancelVerdict.FAILED


def _cancel_response(body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    return {'status': body.get('status'), 'message': body.get('message')}


def _workloads_diff(before: dict[str, str], after: dict[str, str], task_id: str) -> dict[str, Any]:
    return {
        'before': {'workloads': before},
        'after': {'workloads': after},
        'before_header': 'task %s' % task_id,
        'after_header': 'task %s' % task_id,
    }


class TaskCanceller:
    """Cancels one crossTenantMigrationTask, idempotently."""

    def __init__(self, client: GraphClient, warn: Callable[[str], None]) -> None:
        self._client = client
        self._warn = warn

    def _read(self, path: str, what: str, job_id: str, task_id: str) -> GraphResponse:
        reply = self._client.send('GET', path)
        if not reply.ok:
            self._raise(reply, 'Reading %s failed' % what, job_id, task_id, write=False)
        if not isinstance(reply.body, dict):
            reply.body = {}
        return reply

    def _read_task(self, job_id: str, task_id: str) -> GraphResponse:
        return self._read(task_path(job_id, task_id), 'task %s in job %s' % (task_id, job_id), job_id, task_id)

    @staticmethod
    def _raise(reply: GraphResponse, summary: str, job_id: str, task_id: str, write: bool) -> None:
        hint: Optional[str] = None
        if reply.status == 404:
            hint = 'The job %s was not found, or user %s is not part of it.' % (job_id, task_id)
        elif reply.status == 403:
            hint = permission_hint(write)
        reply.raise_error(summary, hint=hint, job_id=job_id, task_id=task_id, changed=False)

    def cancel(self, job_id: str, task_id: str, fail_on_conflict: bool, check_mode: bool, want_diff: bool) -> dict[str, Any]:
        result: dict[str, Any] = {'changed': False, 'job_id': job_id, 'task_id': task_id, 'conflict': False, 'status_code': None}
        before: Optional[TaskAssessment] = None
        if check_mode or want_diff:
            reply = self._read_task(job_id, task_id)
            result['task'] = reply.body
            result['request_id'] = reply.request_id
            before = assess_task(reply.body)
            if before.unknown:
                self._warn('Task %s has workload statuses this collection does not know: %s.'
                           % (task_id, ', '.join('%s is %s' % kv for kv in sorted(before.unknown.items()))))

        if check_mode:
            # The job's own state can forbid the cancel too (cutting over, past completeAfterDateTime).
            job = self._read(job_path(job_id), 'job %s' % job_id, job_id, task_id).body
            return self._predict(result, before, job_cancel_blocker(job), fail_on_conflict, want_diff)

        reply = self._client.send('POST', task_cancel_path(job_id, task_id))
        result['status_code'] = reply.status
        result['request_id'] = reply.request_id
        verdict = judge_cancel_status(reply.status)
        after_statuses: Optional[dict[str, str]] = None

        if verdict is CancelVerdict.ACCEPTED:
            result['changed'] = True
            result['cancel_response'] = _cancel_response(reply.body)
            if before is not None:
                after_statuses = {svc: STATUS_AFTER_CANCEL for svc in before.statuses}
        elif verdict is CancelVerdict.CONFLICT:
            after_statuses = self._on_conflict(result, reply, job_id, task_id, fail_on_conflict)
        else:
            self._raise(reply, 'Cancelling task %s in job %s failed' % (task_id, job_id), job_id, task_id, write=True)

        if want_diff and before is not None:
            result['diff'] = _workloads_diff(before.statuses, after_statuses if after_statuses is not None else before.statuses, task_id)
        return result

    def _on_conflict(self, result: dict[str, Any], reply: GraphResponse, job_id: str, task_id: str,
                     fail_on_conflict: bool) -> Optional[dict[str, str]]:
        """409. Returns the workload statuses after the run, when they were read."""
        code, message = reply.error
        if reply.earlier_attempt_maybe_applied:
            # The 409 may be our own earlier cancel, whose reply was lost or throttled on the way back.
            task = self._read_task(job_id, task_id).body
            now = assess_task(task)
            result['task'] = task
            if now.cancel_in_effect:
                result['changed'] = True
                self._warn('An earlier cancel of task %s got no usable reply (lost, timed out or throttled) and the retry met 409 (%s); '
                           'the task is now %s, so that earlier cancel was accepted.'
                           % (task_id, message, ', '.join(sorted(set(now.statuses.values())))))
                return now.statuses
        result['conflict'] = True
        result['error'] = {'code': code, 'message': message}
        if fail_on_conflict:
            reply.raise_error('Cancelling task %s in job %s was refused' % (task_id, job_id),
                              hint='The task is in a terminal state or can no longer be cancelled; the migration goes on.',
                              job_id=job_id, task_id=task_id, changed=False, conflict=True)
        self._warn('Graph refused to cancel task %s in job %s with 409 (%s): it is already in a terminal state or can no '
                   'longer be cancelled. Nothing was changed; set fail_on_conflict to true to fail instead.' % (task_id, job_id, message))
        return None

    def _predict(self, result: dict[str, Any], before: TaskAssessment, job_blocker: Optional[str], fail_on_conflict: bool,
                 want_diff: bool) -> dict[str, Any]:
        """Check mode: say what a real run would do, from the task's workloads and the job."""
        task_id = result['task_id']
        if before.cancellable and not job_blocker:
            result['changed'] = True
            after = {svc: STATUS_AFTER_CANCEL for svc in before.statuses}
        else:
            reason = job_blocker or 'workload %s' % before.describe_blocking()
            result['conflict'] = True
            if fail_on_conflict:
                raise GraphMigrationsError(
                    'Check mode: cancelling task %s in job %s would be refused with 409, because %s; '
                    'the migration would go on.' % (task_id, result['job_id'], reason), **result)
            self._warn('Check mode: Graph would refuse to cancel task %s with 409 (%s); nothing would change.' % (task_id, reason))
            after = before.statuses
        if want_diff:
            result['diff'] = _workloads_diff(before.statuses, after, task_id)
        return result
