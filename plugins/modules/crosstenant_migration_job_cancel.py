#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: crosstenant_migration_job_cancel
short_description: Cancel a whole cross-tenant migration job in Microsoft 365
version_added: 0.2.0
description:
  - Cancels a C(crossTenantMigrationJob) through Microsoft Graph (C(POST .../crossTenantMigrationJobs/{job_id}/cancel)),
    that is every user of the job whose migration can still be cancelled.
  - Reports C(changed) when Graph accepts the cancel. When Graph answers C(409 Conflict), the module reads the job and
    says why in RV(conflict_reason). V(already_cancelled) (the job is C(pendingCancel) or C(cancelled)) is the state asked
    for, C(ok) and not changed. V(not_cancellable) (the job is cutting over, has ended, or is past its
    C(completeAfterDateTime)) is C(ok) with a warning, or a failure with O(fail_on_conflict=true).
  - Retries, the handling of a cancel whose reply was lost (the evidence rule on the job's C(lastUpdatedDateTime)) and
    the facts kept on a failure are those of M(msgraph.migrations.crosstenant_migration_task_cancel).
  - Needs the Graph permission C(CrossTenantContentMigration.ReadWrite.All) in the B(target) tenant.
author:
  - msgraph.migrations maintainers (@msgraph-migrations)
extends_documentation_fragment:
  - msgraph.migrations.connection
  - msgraph.migrations.auth
  - msgraph.migrations.cancel
  - msgraph.migrations.attributes
attributes:
  check_mode:
    support: full
    description:
      - Sends no cancel. Reads the job and predicts the outcome from its status and C(completeAfterDateTime); a status it cannot
        judge is predicted V(unknown), never V(cancelled).
  diff_mode:
    support: full
    description:
      - Shows the job's status before and after.
options:
  job_id:
    description:
      - Id (a GUID) of the C(crossTenantMigrationJob) to cancel.
    type: str
    required: true
seealso:
  - name: "crossTenantMigrationJob: cancel"
    description: The Microsoft Graph API this module calls.
    link: https://learn.microsoft.com/en-us/graph/api/crosstenantmigrationjob-cancel
  - module: msgraph.migrations.crosstenant_migration_job_info
  - module: msgraph.migrations.crosstenant_migration_task_cancel
'''

EXAMPLES = r'''
- name: Cancel a whole wave and wait until Graph has finished
  msgraph.migrations.crosstenant_migration_job_cancel:
    job_id: add14989-2b21-4001-81bd-a18b0bac1dea
    wait: true
    wait_timeout: 1800
    fail_on_conflict: true
  register: wave_cancel

- name: Show the job's final status
  ansible.builtin.debug:
    msg: "{{ wave_cancel.job.status | default('not read') }}"
'''

RETURN = r'''
job_id:
  description: The job id, in lower case.
  returned: always, once the id was validated (failures included)
  type: str
  sample: add14989-2b21-4001-81bd-a18b0bac1dea
outcome:
  description:
    - What happened to the cancel (in check mode, what would happen) - V(cancelled), V(already_cancelled),
      V(not_cancellable), V(unknown), V(not_found) (a failure) or V(failed) (a failure).
    - V(unknown) - check mode only - the job's status cannot be judged (missing, C(unknownFutureValue), or a value this
      collection does not know), so no outcome is predicted; not changed, no conflict, with a warning. A real run sends the
      cancel and reports what Graph answers.
  returned: when the cancel was sent or predicted
  type: str
  sample: cancelled
conflict:
  description: Whether Graph refused the cancel with 409 (or, in check mode, would refuse it).
  returned: when the cancel was sent or predicted
  type: bool
  sample: false
conflict_reason:
  description: Why Graph refused the cancel with 409 - V(already_cancelled) or V(not_cancellable); null without a conflict.
  returned: when the cancel was sent or predicted
  type: str
  sample: not_cancellable
status_code:
  description: HTTP status of Graph's last answer to the cancel; null in check mode and when no answer came.
  returned: when the cancel was sent or predicted
  type: int
  sample: 202
request_id:
  description: The C(request-id) of Graph's answer to the cancel; quote it to Microsoft support.
  returned: when Graph answered the cancel
  type: str
cancel_sent:
  description: Whether a cancel request left this machine.
  returned: when the cancel was sent or predicted
  type: bool
cancel_in_doubt:
  description: True when an attempt may have been carried out without a usable reply and the module could not tell whether it was.
  returned: when the cancel was sent or predicted
  type: bool
cancel_response:
  description: Graph's reply to an accepted cancel.
  returned: when Graph accepted the cancel
  type: dict
  sample: {"id": "add14989-2b21-4001-81bd-a18b0bac1dea", "displayName": "Wave 1", "status": "pendingCancel", "message": "accepted"}
job:
  description: The job as Graph sent it, when it was read (check mode, diff mode, after a 409, or the final state with O(wait=true)).
  returned: when read
  type: dict
error:
  description:
    - What went wrong, when something did. Graph's error when Graph answered with one (a refused cancel included); Entra ID's
      refusal on an authentication failure; or, when no usable reply came, what happened instead.
  returned: on failures, and when Graph refused the cancel with 409
  type: dict
  contains:
    code:
      description:
        - Graph's C(error.code) (branch on it, or on RV(conflict_reason), not on the message), or Entra ID's C(AADSTS) code
          (for example C(AADSTS7000215)) on an authentication failure.
      type: str
      sample: Conflict
    message:
      description: Graph's or Entra ID's message (scrubbed of secrets), or a description of a reply that was not Graph's.
      type: str
      sample: Cancel is not possible. Current status is completed
    oauth_error:
      description: Entra ID's OAuth error (for example C(invalid_client)), on an authentication failure.
      type: str
    kind:
      description:
        - When no usable reply came, why - V(tls), V(connect), V(timeout), V(lost), V(redirect) or V(too_large).
      type: str
    host:
      description: The host that failed or refused (Graph's, Entra ID's or the managed identity endpoint's).
      type: str
    status:
      description: The HTTP status of the refusal, redirect or oversized reply, when there was one.
      type: int
auth_method:
  description: The authentication method used, on an authentication failure.
  returned: on authentication failures
  type: str
  sample: client_secret
still_pending:
  description: With O(wait=true), the job id when the job was still C(pendingCancel) at O(wait_timeout) (as RV(wait.still_pending)).
  returned: when the wait timed out
  type: list
  elements: str
wait:
  description:
    - With O(wait=true), how the wait ended (the cancels' own results are not changed by it).
  returned: when the module waited (O(wait=true), not in check mode, something was cancelled or already C(pendingCancel))
  type: dict
  version_added: 0.3.0
  contains:
    status:
      description:
        - V(settled) - nothing waited for is C(pendingCancel) any more. V(timed_out) - O(wait_timeout) passed with something
          still C(pendingCancel) (see RV(wait.still_pending)). V(read_failed) - a read during the wait failed (see RV(wait.error)).
          Anything but V(settled) fails the task.
      type: str
      sample: settled
    seconds:
      description: The seconds really waited, to a tenth.
      type: float
      sample: 6.1
    polls:
      description: How many reads the wait made.
      type: int
      sample: 4
    still_pending:
      description: What was still C(pendingCancel) at the last successful read.
      type: list
      elements: str
    missing:
      description: Always empty for a job (a job that is no longer found is a V(read_failed)).
      type: list
      elements: str
    error:
      description: With V(read_failed), the failed read's error (C(code), C(message), and C(status), C(request_id) or C(kind), C(host)).
      type: dict
    message:
      description: How the wait ended, in words (the failure message when it did not settle).
      type: str
'''

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.argspec import cancel_options, check_wait_options
from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.module import GraphModule, GraphSession
from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.results import (
    add_failure,
    add_wait,
    conclude,
    deadline_note,
    job_result,
    note_deadline,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import CANCELLED, TaskCanceller
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.jobs import JobCanceller
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import ALREADY_CANCELLED, job_status_text, validate_guid
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.wait import wait_deadlines, watch_job


def main() -> None:
    module = GraphModule(dict(job_id=dict(type='str', required=True), **cancel_options()))
    params = module.params

    def validate() -> None:
        module.context['job_id'] = validate_guid('job_id', params['job_id'])
        check_wait_options(params)

    def cancel(session: GraphSession) -> dict:
        job_id = module.context['job_id']
        reader = TaskCanceller(session.client, module.warn)
        try:
            report = JobCanceller(session.client, reader).cancel(job_id, module.check_mode, module.diff_mode, session.deadline)
        except GraphMigrationsError as exc:
            # Before the cancel was sent (check mode, diff mode reads, the token): say when timeout_total cut it short.
            raise note_deadline(exc, session.deadline)
        past_deadline = deadline_note(session.deadline)
        wait = None
        if params['wait'] and not module.check_mode and report.outcome in (CANCELLED, ALREADY_CANCELLED):
            poll_deadline, read_deadline = wait_deadlines(session.deadline, params['wait_timeout'])
            wait = watch_job(lambda: reader.read_job(job_id, read_deadline), job_id, poll_deadline)
            if isinstance(wait.latest, dict):
                report.job = wait.latest
                report.after = job_status_text(report.job)
        shaped = job_result(report, params['fail_on_conflict'], module.diff_mode, module.check_mode)
        if shaped.failure and past_deadline:
            add_failure(shaped, past_deadline)
        if wait is not None:
            add_wait(shaped, wait)
        return conclude(shaped, module.warn)

    module.run(cancel, validate=validate)


if __name__ == '__main__':
    main()
