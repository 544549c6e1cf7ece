# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Migration jobs: whether one can still be cancelled, and cancelling a whole job,
by the same rules as a task (one verdict function, the evidence rule for a cancel
in doubt, outcomes as data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import GraphClient, GraphTransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import NO_DEADLINE, Deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import (
    CANCELLED,
    HOW_TO_CHECK,
    CancelOutcome,
    TaskCanceller,
    Verdict,
    refusal_words,
    fail_report,
    judge_cancel_reply,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import (
    ALREADY_CANCELLED,
    CANCELLABLE,
    JOB_CANCEL_IN_EFFECT_STATUSES,
    NOT_CANCELLABLE,
    STATUS_AFTER_CANCEL,
    UNKNOWN,
    changed_since,
    job_cancel_blocker,
    job_cancel_path,
    job_status_doubt,
    job_status_text,
)


@dataclass(frozen=True)
class JobAssessment:
    """Whether a job can still be cancelled, and why not."""

    state: str
    reason: str


def assess_job(job: Any) -> JobAssessment:
    """The one rule for a job (job_info, job_cancel's check mode and its 409): a status that cannot be judged is never cancellable."""
    status = job.get('status') if isinstance(job, dict) else None
    if isinstance(status, str) and status.lower() in JOB_CANCEL_IN_EFFECT_STATUSES:
        return JobAssessment(ALREADY_CANCELLED, 'the job is %s' % status)
    blocker = job_cancel_blocker(job)
    if blocker:
        return JobAssessment(NOT_CANCELLABLE, blocker)
    doubt = job_status_doubt(job)
    if doubt:
        return JobAssessment(UNKNOWN, 'this collection cannot judge it: %s' % doubt)
    return JobAssessment(CANCELLABLE, 'the job is %s and its completeAfterDateTime has not passed' % status)


@dataclass
class JobCancelReport(CancelOutcome):
    """What happened to a job's cancel."""

    job_id: str = ''
    job: Optional[dict[str, Any]] = None
    before: Optional[str] = None
    after: Optional[str] = None


class JobCanceller:
    """Cancels a whole crossTenantMigrationJob, idempotently."""

    def __init__(self, client: GraphClient, reader: TaskCanceller) -> None:
        self._client = client
        self._reader = reader

    def cancel(self, job_id: str, check_mode: bool, want_diff: bool, deadline: Deadline = NO_DEADLINE) -> JobCancelReport:
        report = JobCancelReport(job_id=job_id)
        if check_mode or want_diff:
            report.job = self._reader.read_job(job_id, deadline)
            report.before = job_status_text(report.job)
        if check_mode:
            assessment = assess_job(report.job)
            if assessment.state == CANCELLABLE:
                report.outcome, report.after = CANCELLED, STATUS_AFTER_CANCEL
                report.message = 'Check mode: Graph would accept the cancel of job %s (%s).' % (job_id, assessment.reason)
            elif assessment.state == UNKNOWN:
                # Not a prediction of a 409 either: no conflict, and a real run sends the cancel and lets Graph judge.
                report.outcome, report.after = UNKNOWN, report.before
                report.message = ('Check mode: whether Graph would accept the cancel of job %s cannot be told, because %s; a real run sends '
                                  'the cancel and reports what Graph answers.' % (job_id, assessment.reason))
                report.warnings.append(report.message)
            else:
                report.outcome, report.conflict, report.conflict_reason, report.after = assessment.state, True, assessment.state, report.before
                report.message = 'Check mode: Graph would refuse to cancel job %s with 409, because %s.' % (job_id, assessment.reason)
            return report

        report.cancel_sent = True
        try:
            reply = self._client.request('POST', job_cancel_path(job_id), deadline=deadline)
        except GraphTransportError as exc:
            report.no_usable_reply('job %s' % job_id, exc)
            return report
        report.status_code, report.request_id, report.in_doubt = reply.status, reply.request_id, reply.in_doubt
        verdict = judge_cancel_reply(reply.status, reply.body, reply.is_json)
        if verdict is Verdict.ACCEPTED:
            body = reply.body if isinstance(reply.body, dict) else {}
            report.outcome, report.in_doubt, report.after = CANCELLED, False, STATUS_AFTER_CANCEL
            report.cancel_response = {key: body.get(key) for key in ('id', 'displayName', 'status', 'message')}
            report.message = 'Graph accepted the cancel of job %s (HTTP %d).' % (job_id, reply.status)
            return report
        if verdict is not Verdict.CONFLICT:
            fail_report(report, reply, verdict, 'Cancelling job %s' % job_id, 'The job %s was not found.' % job_id)
            return report

        report.error = reply.error_fields()
        refusal = refusal_words(reply.status, reply.body, reply.is_json)
        try:
            job = self._reader.read_job(job_id, deadline)
        except GraphMigrationsError as exc:
            report.message = 'Graph refused the cancel of job %s with 409 (%s), and reading the job to tell why failed: %s' % (
                job_id, refusal, exc.message)
            if report.in_doubt:
                report.message += ' An earlier attempt got no usable reply and may have cancelled the job. ' + HOW_TO_CHECK
            return report
        report.job = job
        report.after = job_status_text(job)
        assessment = assess_job(job)
        if assessment.state == ALREADY_CANCELLED and report.in_doubt and changed_since(job, reply.first_sent_at):
            report.outcome, report.in_doubt = CANCELLED, False
            report.message = ('An earlier attempt to cancel job %s got no usable reply, and the retry was refused with 409 (%s); the job is '
                              'now %s and changed after that attempt was sent, so that attempt cancelled it.' % (job_id, refusal, report.after))
            report.warnings.append(report.message)
            return report
        report.conflict = True
        if assessment.state == ALREADY_CANCELLED:
            report.outcome = report.conflict_reason = ALREADY_CANCELLED
            report.message = 'Job %s was already cancelled: Graph refused the cancel with 409 (%s) and %s. Nothing was changed.' % (
                job_id, refusal, assessment.reason)
            if report.in_doubt and changed_since(job, reply.first_sent_at) is None:
                report.message += (' An earlier attempt of this run got no usable reply and the job has no lastUpdatedDateTime, so '
                                   'whether that attempt or an earlier cancel did it cannot be told.')
                report.warnings.append(report.message)
            else:
                report.in_doubt = False
            return report
        report.in_doubt = False
        report.outcome = report.conflict_reason = NOT_CANCELLABLE
        reason = assessment.reason if assessment.state == NOT_CANCELLABLE else 'the job does not say why (%s)' % (
            job_status_doubt(job) or 'it is %s' % report.after)
        report.message = 'Graph refused to cancel job %s with 409 (%s): %s. Nothing was changed.' % (job_id, refusal, reason)
        return report
