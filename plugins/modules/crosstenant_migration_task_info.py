#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: crosstenant_migration_task_info
short_description: Read users' cross-tenant migration tasks, and whether each can still be cancelled
version_added: 0.2.0
description:
  - Reads one C(crossTenantMigrationTask) (O(task_id)) or every task of a job (paged, following C(@odata.nextLink)),
    and says for each whether a cancel can still go through (RV(tasks[].state)), where its workloads are
    (RV(tasks[].progress)) and which workloads block a cancel.
  - The job is read once too, since its state (cutting over, ended, past C(completeAfterDateTime)) can forbid every cancel.
  - A listing follows only absolute C(https) links under Graph's own version root, and fails after 2,000 pages or
    20,000 tasks (a job holds at most 2,000 users). It also fails when a listed task has no usable id (a GUID), or one id
    is listed twice with different contents; the same task listed twice alike is taken once.
  - A read answering for another task or job than asked is refused.
  - Needs the Graph permission C(CrossTenantContentMigration.Read.All) (or C(CrossTenantContentMigration.ReadWrite.All))
    in the B(target) tenant.
author:
  - msgraph.migrations maintainers (@msgraph-migrations)
extends_documentation_fragment:
  - msgraph.migrations.connection
  - msgraph.migrations.auth
  - msgraph.migrations.attributes
  - msgraph.migrations.attributes.info_module
options:
  job_id:
    description:
      - Id (a GUID) of the C(crossTenantMigrationJob).
    type: str
    required: true
  task_id:
    description:
      - Id (a GUID) of one task (the user's object id in the target tenant). Without it, every task of the job is read.
    type: str
    aliases: [user_id]
  state:
    description:
      - Return only the tasks whose RV(tasks[].state) or RV(tasks[].progress) is one of these. Without it, every task.
      - V(cancellable), V(already_cancelled), V(not_cancellable) are what a cancel would meet now, V(unknown) that the task's data
        (or its job's status) cannot be judged; V(not_started), V(in_progress), V(pending_cancel), V(cancelled), V(completed),
        V(failed) are where the workloads are.
    type: list
    elements: str
    choices: [cancellable, already_cancelled, not_cancellable, unknown, not_started, in_progress, pending_cancel, cancelled, completed, failed]
seealso:
  - module: msgraph.migrations.crosstenant_migration_task_cancel
  - module: msgraph.migrations.crosstenant_migration_job_info
'''

EXAMPLES = r'''
- name: List the users of a wave that can still be cancelled
  msgraph.migrations.crosstenant_migration_task_info:
    job_id: add14989-2b21-4001-81bd-a18b0bac1dea
    state: [cancellable]
  register: cancellable

- name: Cancel exactly those, in one task
  msgraph.migrations.crosstenant_migration_task_cancel:
    job_id: add14989-2b21-4001-81bd-a18b0bac1dea
    task_ids: "{{ cancellable.task_ids }}"
  when: cancellable.task_ids | length > 0

- name: Check one user after a cancel that was in doubt
  msgraph.migrations.crosstenant_migration_task_info:
    job_id: add14989-2b21-4001-81bd-a18b0bac1dea
    task_id: 6a88de8d-7027-44c1-8674-03f826aa1704
  register: user

- name: Show where the user's migration is
  ansible.builtin.debug:
    msg: "{{ user.tasks[0].state }}: {{ user.tasks[0].state_reason }}"
'''

RETURN = r'''
job_id:
  description: The job id, in lower case.
  returned: always, once the ids were validated (failures included)
  type: str
  sample: add14989-2b21-4001-81bd-a18b0bac1dea
tasks:
  description:
    - The tasks (filtered by O(state)), each with the fields of Graph's task this collection uses (C(id), C(taskType),
      C(lastUpdatedDateTime) and C(currentStatus), each workload with its C(service), C(status), C(message) and C(errors)),
      plus the keys C(state), C(state_reason), C(progress), C(workloads) and C(blocking_workloads) that this module adds.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The task id (the user's object id in the target tenant), as Graph sent it.
      type: str
    taskType:
      description: The kind of task, as Graph sent it.
      type: str
      sample: Users
    currentStatus:
      description: Graph's workload statuses, one entry per workload (service).
      type: list
      elements: dict
    lastUpdatedDateTime:
      description: When the task last changed, as Graph sent it.
      type: str
    state:
      description:
        - What a cancel would meet now - V(cancellable), V(already_cancelled), V(not_cancellable) or V(unknown).
        - V(unknown) - the task's data cannot be judged (no or an empty C(currentStatus), one that is not a list, a workload with
          no status, with C(unknownFutureValue) or with a status this collection does not know, a service listed twice), or the
          job's status cannot be. Such a task is never selected (nor in RV(task_ids)) by O(state=cancellable), and a warning
          names it. A real cancel of it is still sent, and Graph judges it.
      type: str
      sample: cancellable
    state_reason:
      description: Why, in words (the blocking workloads, the job's state, or what cannot be judged).
      type: str
      sample: workload Exchange is completed
    progress:
      description: Where the workloads are - V(not_started), V(in_progress), V(pending_cancel), V(cancelled), V(completed) or V(failed).
      type: str
      sample: in_progress
    workloads:
      description: The workload statuses, service to status.
      type: dict
      sample: {"Exchange": "inProgress", "ODSP": "notStarted"}
    blocking_workloads:
      description: The workloads whose status blocks a cancel, service to status.
      type: dict
      sample: {}
task_ids:
  description: The ids (lower case) of RV(tasks), ready for O(msgraph.migrations.crosstenant_migration_task_cancel#module:task_ids).
  returned: success
  type: list
  elements: str
counts:
  description: How many of the tasks read (before the O(state) filter) are in each state and each progress.
  returned: success
  type: dict
  sample: {"cancellable": 2, "already_cancelled": 1, "not_cancellable": 1, "unknown": 1, "in_progress": 3, "cancelled": 1, "completed": 1}
job:
  description: The job as Graph sent it.
  returned: success
  type: dict
job_state_reason:
  description: Why the job forbids every cancel, or null when it does not.
  returned: success
  type: str
  sample: the job is cuttingOver
error:
  description:
    - What went wrong. Graph's error when Graph answered with one; Entra ID's refusal on an authentication failure; or,
      when no usable reply came, what happened instead.
  returned: on failures
  type: dict
  contains:
    code:
      description:
        - Graph's C(error.code) (branch on it, not on the message), or Entra ID's C(AADSTS) code
          (for example C(AADSTS7000215)) on an authentication failure.
      type: str
      sample: ResourceNotFound
    message:
      description: Graph's or Entra ID's message (scrubbed of secrets), or a description of a reply that was not Graph's.
      type: str
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
'''

from collections import Counter

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.module import GraphModule, GraphSession
from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.results import note_deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import TaskCanceller
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import (
    PROGRESS,
    STATES,
    UNKNOWN,
    assess_task,
    job_cancel_blocker,
    job_status_doubt,
    validate_guid,
)

# How many tasks a warning about data that cannot be judged names (the rest are counted).
WARN_NAMED = 5


def main() -> None:
    module = GraphModule(
        dict(
            job_id=dict(type='str', required=True),
            task_id=dict(type='str', aliases=['user_id']),
            state=dict(type='list', elements='str', choices=list(STATES + PROGRESS)),
        ),
    )
    params = module.params

    def validate() -> None:
        module.context['job_id'] = validate_guid('job_id', params['job_id'])
        if params['task_id'] is not None:
            module.context['task_id'] = validate_guid('task_id', params['task_id'])

    def read(session: GraphSession) -> dict:
        job_id = module.context['job_id']
        reader = TaskCanceller(session.client, module.warn)
        job = reader.read_job(job_id, deadline=session.deadline)
        blocker, job_doubt = job_cancel_blocker(job), job_status_doubt(job)
        if params['task_id'] is not None:
            tasks = [reader.read_task(job_id, module.context['task_id'], session.deadline)]
        else:
            try:
                tasks = list(reader.list_tasks(job_id, session.deadline).values())
            except GraphMigrationsError as exc:
                raise note_deadline(exc, session.deadline, session.client.pages_listed)
        counts: Counter = Counter()
        selected = []
        wanted = set(params['state'] or ())
        unjudged: list[str] = []
        for task in tasks:
            assessment = assess_task(task, blocker, job_doubt)
            if assessment.state == UNKNOWN:
                unjudged.append('%s (%s)' % (task.get('id'), assessment.oddities))
            counts[assessment.state] += 1
            counts[assessment.progress] += 1
            if wanted and not wanted & {assessment.state, assessment.progress}:
                continue
            entry = dict(task)
            entry.update(state=assessment.state, state_reason=assessment.reason, progress=assessment.progress,
                         workloads=assessment.statuses, blocking_workloads=assessment.blocking)
            selected.append(entry)
        if unjudged:
            more = ' and %d more' % (len(unjudged) - WARN_NAMED) if len(unjudged) > WARN_NAMED else ''
            module.warn('%d task(s) have data this collection cannot judge (state unknown; never counted as cancellable): %s%s.'
                        % (len(unjudged), '; '.join(unjudged[:WARN_NAMED]), more))
        return dict(changed=False, tasks=selected, task_ids=[str(task['id']).lower() for task in selected], counts=dict(counts),
                    job=job, job_state_reason=blocker)

    module.run(read, validate=validate)


if __name__ == '__main__':
    main()
