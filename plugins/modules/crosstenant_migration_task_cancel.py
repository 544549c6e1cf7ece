#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: crosstenant_migration_task_cancel
short_description: Cancel users' cross-tenant migrations in Microsoft 365, one or a whole wave
version_added: 0.1.0
description:
  - Cancels C(crossTenantMigrationTask)s, that is users' migrations within a cross-tenant migration job, through
    Microsoft Graph (C(POST .../crossTenantMigrationJobs/{job_id}/users/{task_id}/cancel)).
  - One user with O(task_id); many with O(task_ids), sent through Graph's JSON batching (C($batch), 20 cancels per
    request, O(batch_concurrency) requests in flight), with a per-user report in RV(results).
  - Reports C(changed) when Graph accepts a cancel. When Graph answers C(409 Conflict), the module reads the task (or
    lists the job's tasks once, for many) to tell why, and says so in RV(conflict_reason). V(already_cancelled) (every
    workload is C(pendingCancel) or C(cancelled)) is the state asked for, C(ok) and not changed.
    V(not_cancellable) (a workload has cut over, completed, failed or is finalizing, or the job no longer allows a
    cancel) is C(ok) with a warning, or a failure with O(fail_on_conflict=true). Either way a rerun is safe.
  - Throttling (429) and unavailable or failing services (500, 502, 503, 504) are retried by the same rule for a plain
    request, a C($batch) request and each of its sub-requests, honouring C(Retry-After); when any request is
    throttled, every batch in flight holds off.
  - A cancel whose reply was lost (connection dropped, read timeout, 500, 502, 504) may have been carried out. If its
    retry meets 409, the module reads the task; when every workload is C(pendingCancel) or C(cancelled) and the task's
    C(lastUpdatedDateTime) is not more than 300 seconds older than the first attempt (allowing for clock skew), that
    attempt was this run's cancel, reported C(changed) with a warning. A task cancelled earlier than that is a plain
    V(already_cancelled). When the module cannot tell, it says so (RV(cancel_in_doubt)) and how to check.
  - Calls are made in the B(target) tenant and need the Graph permission C(CrossTenantContentMigration.ReadWrite.All)
    (check mode, diff mode and the reads after a 409 also read, which C(CrossTenantContentMigration.Read.All) allows).
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
      - Sends no cancel. Reads the task (for many, lists the job's tasks once) and the job, and predicts each outcome by
        the same rules as a real 409 (RV(outcome), RV(conflict_reason)); a task whose data it cannot judge is predicted
        V(unknown), never V(cancelled). A read that returns something that is not a task or a job fails.
  diff_mode:
    support: full
    description:
      - Shows each task's workload statuses before and after (after is C(pendingCancel), or the prediction in check
        mode, or the final state with O(wait=true)). Reads the task (or lists the job's tasks) before cancelling.
options:
  job_id:
    description:
      - Id (a GUID) of the C(crossTenantMigrationJob) holding the users.
    type: str
    required: true
  task_id:
    description:
      - Id (a GUID) of the C(crossTenantMigrationTask) to cancel, which is the object id of the user in the target tenant.
      - Exactly one of O(task_id) and O(task_ids) is required.
    type: str
    aliases: [user_id]
  task_ids:
    description:
      - Ids (GUIDs) of the tasks to cancel, all in O(job_id), sent through C($batch). Duplicates (in any case) are
        cancelled once. Every id is checked before any request. At most 20000.
      - Exactly one of O(task_id) and O(task_ids) is required.
    type: list
    elements: str
    aliases: [user_ids]
  batch_concurrency:
    description:
      - With O(task_ids), how many C($batch) requests (of up to 20 cancels each) are in flight at once, from 1 to 8.
        They share the connection pool, the token and the throttle gate.
    type: int
    default: 4
seealso:
  - name: "crossTenantMigrationTask: cancel"
    description: The Microsoft Graph API this module calls.
    link: https://learn.microsoft.com/en-us/graph/api/crosstenantmigrationtask-cancel
  - name: JSON batching
    description: How Graph carries 20 requests in one.
    link: https://learn.microsoft.com/en-us/graph/json-batching
  - module: msgraph.migrations.crosstenant_migration_task_info
    description: Lists the users still cancellable, and checks a cancel in doubt.
  - module: msgraph.migrations.crosstenant_migration_job_cancel
    description: Cancels a whole job.
'''

EXAMPLES = r'''
# A runbook step: cancel one user, and stop the runbook if it is too late to cancel.
# A rerun after the cancel went through is ok (conflict_reason already_cancelled).
- name: Cancel the migration of a user who must stay in the source tenant
  msgraph.migrations.crosstenant_migration_task_cancel:
    tenant_id: "{{ target_tenant_id }}"
    client_id: "{{ migration_app_id }}"
    client_secret: "{{ migration_app_secret }}"
    job_id: add14989-2b21-4001-81bd-a18b0bac1dea
    task_id: 6a88de8d-7027-44c1-8674-03f826aa1704
    fail_on_conflict: true

# Roll back a whole wave in one task, wait until Graph has finished, and report.
# Run it with --check --diff first to see what would be cancelled.
- name: Roll back a migration wave
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/msgraph.migrations.graph:
      tenant_id: "{{ target_tenant_id }}"
      client_id: "{{ migration_app_id }}"
      client_certificate_path: /etc/migration/app-cert.pem
  vars:
    wave_job_id: add14989-2b21-4001-81bd-a18b0bac1dea
    rollback_users:
      - 6a88de8d-7027-44c1-8674-03f826aa1704
      - 0c1f7a2e-5d4b-4f8e-9a3c-2b6d8e1f4a70
  tasks:
    - name: Cancel every user of the wave
      msgraph.migrations.crosstenant_migration_task_cancel:
        job_id: "{{ wave_job_id }}"
        task_ids: "{{ rollback_users }}"
        wait: true
        wait_timeout: 1800
      register: rollback

    - name: Report what was cancelled now, what had been already, and what was too late
      ansible.builtin.debug:
        msg:
          summary: "{{ rollback.summary }}"
          too_late: "{{ rollback.results | selectattr('outcome', 'eq', 'not_cancellable') | map(attribute='task_id') | list }}"

# An AWX job template with only the built-in "Microsoft Azure Resource Manager" credential attached:
# it injects AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT and AZURE_CLOUD_ENVIRONMENT, so no auth options are needed.
# Survey variables job_id and user_id come from the job template's survey.
- name: AWX - cancel one user's migration
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Cancel the user's migration
      msgraph.migrations.crosstenant_migration_task_cancel:
        job_id: "{{ job_id }}"
        user_id: "{{ user_id }}"
      register: cancel

    - name: Show what happened
      ansible.builtin.debug:
        msg: "{{ cancel.outcome }}{{ (' (' ~ cancel.conflict_reason ~ ')') if cancel.conflict else '' }}"
'''

RETURN = r'''
job_id:
  description: The job id, in lower case.
  returned: always, once the ids were validated (failures included)
  type: str
  sample: add14989-2b21-4001-81bd-a18b0bac1dea
task_id:
  description: The task (user) id, in lower case.
  returned: with O(task_id), once the ids were validated (failures included)
  type: str
  sample: 6a88de8d-7027-44c1-8674-03f826aa1704
outcome:
  description:
    - What happened to the cancel (in check mode, what would happen).
    - V(cancelled) - Graph accepted it (in this run). V(already_cancelled) - Graph refused it with 409 because the task is
      already C(pendingCancel) or C(cancelled). V(not_cancellable) - Graph refused it with 409 because it is too late.
      V(not_found) - the job or the user in it does not exist (a failure). V(failed) - anything else (a failure).
    - V(unknown) - check mode only - the task's data (or its job's status) cannot be judged, so no outcome is predicted
      (see RV(msgraph.migrations.crosstenant_migration_task_info#module:tasks[].state)); not changed, no conflict, with a
      warning. A real run sends the cancel and reports what Graph answers.
  returned: with O(task_id), when the cancel was sent or predicted
  type: str
  sample: cancelled
conflict:
  description:
    - Whether Graph refused a cancel with 409 (or, in check mode, would refuse it). With O(task_ids), whether any was.
  returned: when the cancel was sent or predicted
  type: bool
  sample: false
conflict_reason:
  description:
    - Why Graph refused the cancel with 409; null without a conflict.
    - V(already_cancelled) - every workload is C(pendingCancel) or C(cancelled).
    - V(not_cancellable) - a workload has cut over, completed, failed or is finalizing (see RV(blocking_workloads)), or
      the job is cutting over, ended, or past its C(completeAfterDateTime).
  returned: with O(task_id), when the cancel was sent or predicted
  type: str
  sample: already_cancelled
blocking_workloads:
  description: The workloads whose status blocks a cancel, service to status (empty when none does).
  returned: with O(task_id), when the cancel was sent or predicted
  type: dict
  sample: {"Exchange": "completed"}
status_code:
  description: HTTP status of Graph's last answer to the cancel. V(null) in check mode, where no cancel is sent, and when no answer came.
  returned: with O(task_id), when the cancel was sent or predicted
  type: int
  sample: 202
request_id:
  description: The C(request-id) of Graph's answer to the cancel; quote it to Microsoft support.
  returned: with O(task_id), when Graph answered the cancel
  type: str
  sample: 3f8d2c1b-8e5a-4b7c-9d2e-1a6f0c4b7e93
cancel_sent:
  description: Whether a cancel request left this machine (false in check mode and when the task failed before sending).
  returned: with O(task_id), when the cancel was sent or predicted
  type: bool
  sample: true
cancel_in_doubt:
  description:
    - True when an attempt may have been carried out without a usable reply and the module could not tell whether it
      was. The message says how to check (for example with M(msgraph.migrations.crosstenant_migration_task_info)).
  returned: with O(task_id), when the cancel was sent or predicted
  type: bool
  sample: false
cancel_response:
  description: Graph's reply to an accepted cancel, as Graph sent it.
  returned: when Graph accepted the cancel of O(task_id)
  type: dict
  contains:
    status:
      description: Graph's status of the cancel request.
      type: str
      sample: Accepted
    message:
      description: Graph's message.
      type: str
      sample: "Cancellation request for user id: 6a88de8d-7027-44c1-8674-03f826aa1704 from batch: add14989-2b21-4001-81bd-a18b0bac1dea was accepted."
task:
  description:
    - The task as read from Graph, when it was read (check mode, diff mode, after a 409, or the final state with O(wait=true)).
  returned: with O(task_id), when read
  type: dict
  contains:
    id:
      description: The task id (the user's object id in the target tenant).
      type: str
    taskType:
      description: The kind of task.
      type: str
      sample: Users
    lastUpdatedDateTime:
      description: When the task last changed.
      type: str
    currentStatus:
      description: One entry per workload (service), each with its own status.
      type: list
      elements: dict
      sample:
        - service: Exchange
          status: inProgress
          message: ""
          errors: []
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
results:
  description: With O(task_ids), one entry per distinct id, in the order given.
  returned: with O(task_ids), when the cancels were sent or predicted (failures included)
  type: list
  elements: dict
  contains:
    task_id:
      description: The task id, in lower case.
      type: str
    outcome:
      description: As RV(outcome) for one task.
      type: str
      sample: cancelled
    status_code:
      description: HTTP status of the sub-request's final answer; null in check mode or without one.
      type: int
    message:
      description: What happened, in words.
      type: str
    request_id:
      description: The C(request-id) of the answer (the sub-response's, or the C($batch) request's).
      type: str
    cancel_sent:
      description: Whether the cancel was sent.
      type: bool
    cancel_in_doubt:
      description: As RV(cancel_in_doubt) for one task.
      type: bool
    conflict_reason:
      description: As RV(conflict_reason) for one task.
      type: str
    blocking_workloads:
      description: As RV(blocking_workloads) for one task.
      type: dict
    workloads:
      description:
        - The workload statuses, service to status, as last known (read, predicted, or C(pendingCancel) after an
          accepted cancel; the final state with O(wait=true)); null when never read.
      type: dict
    error:
      description: Graph's error for this task, when there was one.
      type: dict
summary:
  description: With O(task_ids), how many tasks ended in each outcome, with C(total) and C(in_doubt).
  returned: with O(task_ids), when the cancels were sent or predicted (failures included)
  type: dict
  sample: {"cancelled": 18, "already_cancelled": 1, "not_cancellable": 1, "unknown": 0, "not_found": 0, "failed": 0, "total": 20, "in_doubt": 0}
still_pending:
  description: With O(wait=true), the tasks still C(pendingCancel) when O(wait_timeout) passed (as RV(wait.still_pending)).
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
          V(missing) - a task waited for is no longer in the job's listing (see RV(wait.missing)). Anything but V(settled) fails the task.
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
      description: The tasks waited for that were not in the job's last listing (whether their cancel finished cannot be told).
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
    bulk_task_result,
    conclude,
    deadline_note,
    note_deadline,
    single_task_result,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, OptionError
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.batch import MAX_CONCURRENCY
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import CANCELLED, TaskCanceller
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import (
    ALREADY_CANCELLED,
    assess_task,
    validate_guid,
    validate_guid_list,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.wait import WaitReport, wait_deadlines, watch_tasks

MAX_TASK_IDS = 20000


def wait_for(canceller: TaskCanceller, job_id: str, ids: list[str], single: bool, run_deadline: Deadline, wait_timeout: int) -> WaitReport:
    """Wait for ``ids``: one task read per poll for a single task, one listing of the job per poll for many."""
    poll_deadline, read_deadline = wait_deadlines(run_deadline, wait_timeout)
    if single:
        def read() -> dict:
            return {ids[0]: canceller.read_task(job_id, ids[0], read_deadline)}
    else:
        def read() -> dict:
            return canceller.list_tasks(job_id, read_deadline)
    return watch_tasks(read, ids, poll_deadline)


def main() -> None:
    module = GraphModule(
        dict(
            job_id=dict(type='str', required=True),
            task_id=dict(type='str', aliases=['user_id']),
            task_ids=dict(type='list', elements='str', aliases=['user_ids']),
            batch_concurrency=dict(type='int', default=4),
            **cancel_options(),
        ),
        mutually_exclusive=[('task_id', 'task_ids')],
        required_one_of=[('task_id', 'task_ids')],
    )
    params = module.params

    def validate() -> None:
        module.context['job_id'] = validate_guid('job_id', params['job_id'])
        if params['task_ids'] is not None:
            validate_guid_list('task_ids', params['task_ids'], MAX_TASK_IDS)
        else:
            module.context['task_id'] = validate_guid('task_id', params['task_id'])
        if not 1 <= params['batch_concurrency'] <= MAX_CONCURRENCY:
            raise OptionError('batch_concurrency', 'an integer from 1 to %d, got %d' % (MAX_CONCURRENCY, params['batch_concurrency']))
        check_wait_options(params)

    def cancel(session: GraphSession) -> dict:
        job_id = module.context['job_id']
        canceller = TaskCanceller(session.client, module.warn)
        try:
            if params['task_ids'] is None:
                reports = [canceller.cancel_one(job_id, module.context['task_id'], module.check_mode, module.diff_mode, session.deadline)]
            else:
                task_ids = validate_guid_list('task_ids', params['task_ids'], MAX_TASK_IDS)
                reports = canceller.cancel_many(job_id, task_ids, module.check_mode, module.diff_mode, params['batch_concurrency'],
                                                session.deadline)
        except GraphMigrationsError as exc:
            # Before any cancel was sent (check mode, diff mode reads, the token): say when timeout_total cut it short.
            raise note_deadline(exc, session.deadline)
        past_deadline = deadline_note(session.deadline)

        waiting = [report for report in reports if report.outcome in (CANCELLED, ALREADY_CANCELLED)]
        wait = None
        if params['wait'] and not module.check_mode and waiting:
            wait = wait_for(canceller, job_id, [report.task_id for report in waiting], len(reports) == 1, session.deadline, params['wait_timeout'])
            for report in waiting:
                if report.task_id in wait.last_seen:
                    report.task = wait.last_seen[report.task_id]
                    report.after = assess_task(report.task).statuses

        if params['task_ids'] is None:
            shaped = single_task_result(reports[0], params['fail_on_conflict'], module.diff_mode, module.check_mode)
        else:
            shaped = bulk_task_result(reports, params['fail_on_conflict'], module.diff_mode)
        if shaped.failure and past_deadline:
            add_failure(shaped, past_deadline)
        if wait is not None:
            add_wait(shaped, wait)
        return conclude(shaped, module.warn)

    module.run(cancel, validate=validate, pool_size=params['batch_concurrency'] if params['task_ids'] is not None else 1)


if __name__ == '__main__':
    main()
