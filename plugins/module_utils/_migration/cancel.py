# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Cancelling tasks (users), one or a whole wave, and what each answer means.

One function (``judge_cancel_reply``) says what a reply's status means, for a
plain reply and a ``$batch`` sub-reply alike; one function (``settle_conflict``)
says what a 409 means, from the task's workloads, its job, and the evidence rule
for a cancel in doubt. Outcomes are returned as data (``CancelReport``); the
module layer turns them into results, diffs and failures.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, GraphRequestError
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.batch import BatchRunner, SubRequest, SubResult
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import GraphClient, GraphReply, GraphTransportError, parse_graph_error
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import NO_DEADLINE, Deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import (
    ALREADY_CANCELLED,
    CANCELLABLE,
    NOT_CANCELLABLE,
    STATUS_AFTER_CANCEL,
    UNKNOWN,
    TaskAssessment,
    api_version_hint,
    assess_task,
    changed_since,
    index_tasks,
    job_cancel_blocker,
    job_path,
    job_status_doubt,
    permission_hint,
    require_shape,
    task_cancel_path,
    task_fields,
    task_path,
    tasks_path,
)

CANCELLED = 'cancelled'
NOT_FOUND = 'not_found'
FAILED = 'failed'
# unknown: check mode only, for a task (or job) whose data cannot be judged; a real run sends the cancel and lets Graph judge.
OUTCOMES = (CANCELLED, ALREADY_CANCELLED, NOT_CANCELLABLE, UNKNOWN, NOT_FOUND, FAILED)
# Workload statuses in which the migration is still moving (so a refused cancel means "it goes on").
_MOVING_STATUSES = frozenset(s.lower() for s in ('notStarted', 'valid', 'inProgress', 'syncing', 'synced', 'finalizing', 'forceComplete'))

HOW_TO_CHECK = ('Check the task with msgraph.migrations.crosstenant_migration_task_info (or rerun this task in check mode) '
                'before sending it again.')


class Verdict(enum.Enum):
    ACCEPTED = 'accepted'
    CONFLICT = 'conflict'
    NOT_FOUND = 'not_found'
    FAILED = 'failed'


def judge_cancel_reply(status: int, body: Any, is_json: bool) -> Verdict:
    """What a cancel's reply means: the one rule for single and batched cancels.

    Only Graph's own answers count: a 2xx with JSON (or no body), a 409 or 404 in Graph's
    error shape. An HTML page or malformed JSON with any status (a proxy, a wrong
    endpoint) is a failure, whatever its status says.
    """
    if 200 <= status < 300:  # 202 documented; an older draft said 200
        return Verdict.ACCEPTED if body is None or (is_json and isinstance(body, dict)) else Verdict.FAILED
    graph_error = parse_graph_error(body) if is_json else None
    if graph_error is not None and status == 409:
        return Verdict.CONFLICT
    if graph_error is not None and status == 404:
        return Verdict.NOT_FOUND
    return Verdict.FAILED


@dataclass
class CancelOutcome:
    """What happened to a cancel (of a task or a job): the facts every cancel result carries."""

    outcome: str = FAILED
    status_code: Optional[int] = None
    request_id: Optional[str] = None
    message: str = ''
    error: Optional[dict[str, Any]] = None
    cancel_response: Optional[dict[str, Any]] = None
    # A cancel request left this machine (in check mode: never).
    cancel_sent: bool = False
    # An attempt may have been carried out without a usable reply, and it is still not known whether it was.
    in_doubt: bool = False
    conflict: bool = False
    conflict_reason: Optional[str] = None
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.outcome == CANCELLED

    def no_usable_reply(self, what: str, exc: GraphTransportError) -> None:
        """The cancel of ``what`` got no usable reply after every retry: keep what may have happened."""
        self.cancel_sent = exc.reached
        self.in_doubt = exc.in_doubt
        self.error = dict(exc.result.get('error') or {})
        self.message = 'Cancelling %s got no usable reply: %s' % (what, exc.message)
        if exc.in_doubt:
            self.message += ' An attempt may have reached Graph, so the cancel may have been carried out. ' + HOW_TO_CHECK


@dataclass
class CancelReport(CancelOutcome):
    """What happened to one task's cancel."""

    task_id: str = ''
    blocking: dict[str, str] = field(default_factory=dict)
    task: Optional[dict[str, Any]] = None
    before: Optional[dict[str, str]] = None
    after: Optional[dict[str, str]] = None


def migration_goes_on(assessment: TaskAssessment) -> bool:
    """Whether a task that cannot be cancelled is still migrating (rather than ended)."""
    if assessment.job_blocker and not assessment.blocking:
        return 'cuttingover' in assessment.job_blocker.lower().replace(' ', '') or 'completeafterdatetime' in assessment.job_blocker.lower()
    return any(status.lower() in _MOVING_STATUSES for status in assessment.statuses.values())


def settle_conflict(report: CancelReport, task: dict[str, Any], job_blocker: Optional[str], first_sent_at: float,
                    refusal: str) -> None:
    """A 409 (``refusal`` is Graph's words): decide, from the task and its job, what it means."""
    assessment = assess_task(task, job_blocker)
    report.task = task
    report.blocking = dict(assessment.blocking)
    if assessment.cancel_in_effect:
        ours = changed_since(task, first_sent_at) if report.in_doubt else False
        if ours:
            report.outcome, report.in_doubt, report.conflict = CANCELLED, False, False
            report.after = assessment.statuses
            report.message = ('An earlier attempt to cancel task %s got no usable reply, and the retry was refused with 409 (%s); the task is '
                              'now %s and changed after that attempt was sent, so that attempt cancelled it.'
                              % (report.task_id, refusal, ', '.join(sorted(set(assessment.statuses.values())))))
            report.warnings.append(report.message)
            return
        report.outcome, report.conflict, report.conflict_reason = ALREADY_CANCELLED, True, ALREADY_CANCELLED
        report.message = 'Task %s was already cancelled: Graph refused the cancel with 409 (%s) and %s. Nothing was changed.' % (
            report.task_id, refusal, assessment.reason)
        if ours is None:
            # Cancel in effect, an attempt in doubt, and no date to tell whose cancel it was.
            report.message += (' An earlier attempt of this run got no usable reply and the task has no lastUpdatedDateTime, so whether '
                               'that attempt or an earlier cancel did it cannot be told.')
            report.warnings.append(report.message)
        else:
            report.in_doubt = False
        return
    # Not cancelled: whatever an attempt in doubt did, it did not cancel the task.
    report.in_doubt = False
    report.outcome, report.conflict, report.conflict_reason = NOT_CANCELLABLE, True, NOT_CANCELLABLE
    if assessment.state == UNKNOWN:
        # Graph has judged (409); the task's data does not say why, and this is said rather than guessed.
        report.message = ('Graph refused to cancel task %s with 409 (%s), so it can no longer be cancelled; its data does not say why (%s), '
                          'nor whether its migration goes on. Nothing was changed.' % (report.task_id, refusal, assessment.oddities))
        return
    fate = 'its migration goes on' if migration_goes_on(assessment) else 'its migration has already ended'
    report.message = 'Graph refused to cancel task %s with 409 (%s): %s, so it can no longer be cancelled; %s. Nothing was changed.' % (
        report.task_id, refusal, assessment.reason, fate)


def refusal_words(status: int, body: Any, is_json: bool) -> str:
    graph_error = parse_graph_error(body) if is_json else None
    if graph_error is None:
        return 'HTTP %d' % status
    code, message = graph_error
    return '%s: %s' % (code, (message or '').rstrip(' .')) if message else str(code)


class TaskCanceller:
    """Cancels tasks of one job: one through its own request, several through ``$batch``."""

    def __init__(self, client: GraphClient, warn: Callable[[str], None], runner: Callable[[GraphClient, int], BatchRunner] = BatchRunner) -> None:
        self._client = client
        self._warn = warn
        # Makes the $batch runner (tests give one on a fake clock).
        self._runner = runner

    # ----- reads ---------------------------------------------------------------------------

    def read(self, path: str, kind: str, what: str, deadline: Deadline, expected_id: str, **context: Any) -> dict[str, Any]:
        """GET one task or job; a failure, a reply of another shape or of another id than ``expected_id`` raises."""
        reply = self._client.request('GET', path, deadline=deadline)
        if not reply.ok:
            raise_for_reply(reply, 'Reading %s failed' % what, write=False, **context)
        return require_shape(reply.body if reply.is_json else None, kind, what, expected_id)

    def read_task(self, job_id: str, task_id: str, deadline: Deadline) -> dict[str, Any]:
        task = self.read(task_path(job_id, task_id), 'task', 'task %s in job %s' % (task_id, job_id), deadline, task_id,
                         job_id=job_id, task_id=task_id)
        return task_fields(task)

    def read_job(self, job_id: str, deadline: Deadline) -> dict[str, Any]:
        return self.read(job_path(job_id), 'job', 'job %s' % job_id, deadline, job_id, job_id=job_id)

    def list_tasks(self, job_id: str, deadline: Deadline) -> dict[str, dict[str, Any]]:
        """Every task of the job, by lower-case id, through one paged listing (each task with TASK_FIELDS only,
        at most MAX_LISTED_ITEMS); tasks without a usable id or listed twice differently fail it (index_tasks)."""
        items, reply = self._client.list_all(tasks_path(job_id), deadline, keep=task_fields)
        if not reply.ok:
            raise_for_reply(reply, 'Listing the tasks of job %s failed' % job_id, write=False, job_id=job_id)
        return index_tasks(items, 'the tasks of job %s' % job_id)

    # ----- one task ------------------------------------------------------------------------

    def cancel_one(self, job_id: str, task_id: str, check_mode: bool, want_diff: bool,
                   deadline: Deadline = NO_DEADLINE) -> CancelReport:
        report = CancelReport(task_id=task_id)
        if check_mode or want_diff:
            task = self.read_task(job_id, task_id, deadline)
            report.task = task
            report.before = assess_task(task).statuses
            if not check_mode:
                self._warn_odd(task_id, task)
        if check_mode:
            job = self.read_job(job_id, deadline)
            return predict(report, assess_task(report.task, job_cancel_blocker(job), job_status_doubt(job)))

        path = task_cancel_path(job_id, task_id)
        report.cancel_sent = True
        try:
            reply = self._client.request('POST', path, deadline=deadline)
        except GraphTransportError as exc:
            report.no_usable_reply('task %s in job %s' % (task_id, job_id), exc)
            return report
        report.status_code = reply.status
        report.request_id = reply.request_id
        report.in_doubt = reply.in_doubt
        verdict = judge_cancel_reply(reply.status, reply.body, reply.is_json)
        if verdict is Verdict.ACCEPTED:
            report.outcome = CANCELLED
            body = reply.body if isinstance(reply.body, dict) else {}
            report.cancel_response = {'status': body.get('status'), 'message': body.get('message')}
            report.in_doubt = False
            report.message = 'Graph accepted the cancel of task %s in job %s (HTTP %d).' % (task_id, job_id, reply.status)
            if report.before is not None:
                report.after = {svc: STATUS_AFTER_CANCEL for svc in report.before}
        elif verdict is Verdict.CONFLICT:
            report.error = reply.error_fields()
            self._settle_one(report, job_id, reply, deadline)
        else:
            fail_report(report, reply, verdict, 'Cancelling task %s in job %s' % (task_id, job_id),
                        'The job %s was not found, or user %s is not part of it.' % (job_id, task_id))
        return report

    def _settle_one(self, report: CancelReport, job_id: str, reply: GraphReply, deadline: Deadline) -> None:
        refusal = refusal_words(reply.status, reply.body, reply.is_json)
        try:
            task = self.read_task(job_id, report.task_id, deadline)
            job_blocker = None
            if assess_task(task).state in (CANCELLABLE, UNKNOWN):
                # The workloads do not say why: the job's state or its completeAfterDateTime will.
                job_blocker = job_cancel_blocker(self.read_job(job_id, deadline))
        except GraphMigrationsError as exc:
            report.outcome = FAILED
            report.message = ('Graph refused the cancel of task %s with 409 (%s), and reading the task (and its job) to tell why failed: %s'
                              % (report.task_id, refusal, exc.message))
            if report.in_doubt:
                report.message += (' An earlier attempt got no usable reply, so that attempt may have cancelled the task. ' + HOW_TO_CHECK)
            return
        settle_conflict(report, task, job_blocker, reply.first_sent_at, refusal)

    def _warn_odd(self, task_id: str, task: Any) -> None:
        assessment = assess_task(task)
        if assessment.odd:
            self._warn('Task %s has data this collection cannot judge: %s. The cancel is sent anyway, and Graph judges it.'
                       % (task_id, assessment.oddities))

    # ----- many tasks ----------------------------------------------------------------------

    def cancel_many(self, job_id: str, task_ids: list[str], check_mode: bool, want_diff: bool, concurrency: int,
                    deadline: Deadline = NO_DEADLINE) -> list[CancelReport]:
        """Cancel ``task_ids`` through ``$batch``; one report per id, in order."""
        reports = {task_id: CancelReport(task_id=task_id) for task_id in task_ids}
        before: dict[str, dict[str, Any]] = {}
        if check_mode or want_diff:
            before = self.list_tasks(job_id, deadline)
            for task_id, report in reports.items():
                if task_id in before:
                    report.task = before[task_id]
                    report.before = assess_task(before[task_id]).statuses
        if check_mode:
            job = self.read_job(job_id, deadline)
            job_blocker, job_doubt = job_cancel_blocker(job), job_status_doubt(job)
            for task_id, report in reports.items():
                if report.task is None:
                    report.outcome = NOT_FOUND
                    report.message = 'Task %s is not part of job %s.' % (task_id, job_id)
                else:
                    predict(report, assess_task(report.task, job_blocker, job_doubt))
            return list(reports.values())

        runner = self._runner(self._client, concurrency)
        answers = runner.run([SubRequest(id=task_id, method='POST', url=task_cancel_path(job_id, task_id)) for task_id in task_ids], deadline)
        if runner.stats.sub_retries or runner.stats.envelope_retries:
            self._warn('Graph throttled or failed part of the $batch requests: %d sub-request(s) and %d $batch request(s) were sent again '
                       '(%d throttled).' % (runner.stats.sub_retries, runner.stats.envelope_retries, runner.stats.throttled))
        conflicts: list[tuple[CancelReport, SubResult]] = []
        for task_id, report in reports.items():
            answer = answers[task_id]
            report.cancel_sent = answer.reached
            report.in_doubt = answer.in_doubt
            report.status_code = answer.status
            report.request_id = answer.request_id
            if answer.status is None:
                report.message = 'Cancelling task %s got no answer: %s.' % (task_id, answer.problem.rstrip('.'))
                if answer.in_doubt:
                    report.message += ' It may have been carried out. ' + HOW_TO_CHECK
                continue
            is_json = not isinstance(answer.body, str)
            verdict = judge_cancel_reply(answer.status, answer.body, is_json)
            if verdict is Verdict.ACCEPTED:
                report.outcome, report.in_doubt = CANCELLED, False
                body = answer.body if isinstance(answer.body, dict) else {}
                report.cancel_response = {'status': body.get('status'), 'message': body.get('message')}
                report.message = 'Graph accepted the cancel (HTTP %d).' % answer.status
                if report.before is not None:
                    report.after = {svc: STATUS_AFTER_CANCEL for svc in report.before}
            elif verdict is Verdict.CONFLICT:
                report.error = _sub_error(answer.body)
                conflicts.append((report, answer))
            else:
                reply = GraphReply('POST', task_cancel_path(job_id, task_id), answer.status, answer.headers, answer.body, is_json,
                                   answer.request_id, attempts=answer.attempts, in_doubt=answer.in_doubt,
                                   body_note='' if is_json else 'the reply was not JSON', api_version=self._client.settings.api_version)
                fail_report(report, reply, verdict, 'Cancelling task %s' % task_id, 'User %s is not part of job %s.' % (task_id, job_id),
                            answer.problem)
        if conflicts:
            self._settle_many(job_id, conflicts, deadline)
        for task_id, report in reports.items():
            note_untrusted_replies(report, answers[task_id])
        return list(reports.values())

    def _settle_many(self, job_id: str, conflicts: list[tuple[CancelReport, SubResult]], deadline: Deadline) -> None:
        """409s: judged from one paged listing of the job's tasks (and one read of the job), not a GET per task."""
        try:
            tasks = self.list_tasks(job_id, deadline)
            job_blocker: Optional[str] = None
            if any(assess_task(tasks.get(report.task_id)).state in (CANCELLABLE, UNKNOWN) for report, _answer in conflicts):
                # Some workloads do not say why: the job's state or its completeAfterDateTime will.
                job_blocker = job_cancel_blocker(self.read_job(job_id, deadline))
        except GraphMigrationsError as exc:
            for report, answer in conflicts:
                report.outcome = FAILED
                report.message = ('Graph refused the cancel with 409 (%s), and listing the job\'s tasks to tell why failed: %s'
                                  % (refusal_words(409, answer.body, True), exc.message))
                if report.in_doubt:
                    report.message += ' An earlier attempt got no usable reply and may have cancelled the task. ' + HOW_TO_CHECK
            return
        for report, answer in conflicts:
            refusal = refusal_words(409, answer.body, True)
            task = tasks.get(report.task_id)
            if task is None:
                report.outcome = FAILED
                report.message = 'Graph refused the cancel with 409 (%s), but the task is not in the listing of job %s.' % (refusal, job_id)
                continue
            settle_conflict(report, task, job_blocker, answer.first_sent_at, refusal)


def note_untrusted_replies(report: CancelReport, answer: SubResult) -> None:
    """Say so when an envelope's answers for this task were contradictory or malformed (so none was taken, and it was sent again)."""
    if not answer.notes:
        return
    note = 'Graph\'s $batch reply could not be taken at its word for task %s: %s.' % (report.task_id, '; '.join(answer.notes))
    report.message = '%s %s' % (report.message, note) if report.message else note
    report.warnings.append(note)


def _sub_error(body: Any) -> dict[str, Any]:
    graph_error = parse_graph_error(body)
    return {'code': graph_error[0], 'message': graph_error[1]} if graph_error else {'code': None, 'message': None}


def predict(report: CancelReport, assessment: TaskAssessment) -> CancelReport:
    """Check mode: what a real cancel would meet, by the same classification as a real 409.

    Data this collection cannot judge is never predicted cancellable: its outcome is ``unknown`` (no conflict predicted
    either), with a warning; what else is odd about a task that is judged anyway is a warning too.
    """
    state = assessment.state
    report.conflict_reason = None if state in (CANCELLABLE, UNKNOWN) else state
    report.blocking = dict(assessment.blocking)
    if state == CANCELLABLE:
        report.outcome = CANCELLED
        report.after = {svc: STATUS_AFTER_CANCEL for svc in assessment.statuses}
        report.message = 'Check mode: Graph would accept the cancel of task %s.' % report.task_id
        return report
    report.after = dict(assessment.statuses)
    if state == UNKNOWN:
        report.outcome = UNKNOWN
        report.message = ('Check mode: whether Graph would accept the cancel of task %s cannot be told, because %s; a real run sends the '
                          'cancel and reports what Graph answers.' % (report.task_id, assessment.reason))
        report.warnings.append(report.message)
        return report
    report.outcome = state
    report.conflict = True
    if state == ALREADY_CANCELLED:
        report.message = 'Check mode: task %s is already cancelled (%s); Graph would refuse the cancel with 409.' % (
            report.task_id, assessment.reason)
    else:
        fate = 'its migration would go on' if migration_goes_on(assessment) else 'its migration has already ended'
        report.message = 'Check mode: Graph would refuse to cancel task %s with 409, because %s; %s.' % (
            report.task_id, assessment.reason, fate)
    if assessment.oddities:
        report.warnings.append('Task %s also has data this collection cannot judge (%s); the prediction rests on %s.'
                               % (report.task_id, assessment.oddities, assessment.reason))
    return report


def fail_report(report: CancelOutcome, reply: GraphReply, verdict: Verdict, summary: str, not_found_hint: str, gave_up: str = '') -> None:
    """A cancel answered neither 2xx nor 409: not found, or a failure (keeping whether it may have gone through)."""
    report.error = reply.error_fields()
    reason = gave_up or reply.gave_up
    request_id = ' (request-id: %s)' % reply.request_id if reply.request_id else ''
    version_hint = api_version_hint(reply.status, report.error.get('message'), reply.api_version) if reply.graph_error else None
    if version_hint:
        # Not a missing job or user: the API itself is not there on this version (a 400 or 404 was not carried out).
        report.outcome = FAILED
        report.message = '%s failed: %s. %s%s' % (summary, reply.describe(), version_hint, request_id)
        return
    if verdict is Verdict.NOT_FOUND:
        report.outcome = NOT_FOUND
        report.message = '%s failed: %s. %s%s' % (summary, reply.describe(), not_found_hint, request_id)
        return
    report.outcome = FAILED
    report.message = '%s failed: %s%s.%s' % (summary, reply.describe(), ' (%s)' % reason if reason else '', request_id)
    if reply.status == 403:
        report.message += ' ' + permission_hint(write=True)
    if 200 <= reply.status < 300:
        # Something answered "accepted" in a shape Graph never uses: it may or may not have been Graph.
        report.in_doubt = True
    if report.in_doubt:
        report.message += ' An attempt may have been carried out although its reply was lost or unusable. ' + HOW_TO_CHECK


def raise_for_reply(reply: GraphReply, summary: str, write: bool, **context: Any) -> None:
    """Raise GraphRequestError for a failed read, with the hint a user needs."""
    fields = reply.error_fields()
    hint = api_version_hint(reply.status, fields['message'], reply.api_version) if reply.graph_error else None
    if hint is None and reply.status == 404:
        user = ', or user %s is not part of it' % context['task_id'] if context.get('task_id') else ''
        hint = 'The job %s was not found%s.' % (context.get('job_id'), user)
    elif hint is None and reply.status == 403:
        hint = permission_hint(write)
    raise GraphRequestError(summary, reply.status, fields['code'], fields['message'], reply.request_id, hint=hint, **context)
