#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: crosstenant_migration_task_cancel
short_description: Cancel one user's cross-tenant migration in Microsoft 365
version_added: 0.1.0
description:
  - Cancels a C(crossTenantMigrationTask), that is one user's migration within a cross-tenant migration job,
    through Microsoft Graph (C(POST .../crossTenantMigrationJobs/{job_id}/users/{task_id}/cancel)).
  - Reports C(changed) when Graph accepts the cancel. When Graph answers C(409 Conflict) (the user's migration is already
    in a terminal state, for example cancelled or completed, or has gone too far to be cancelled), nothing changes and the
    task is C(ok) with RV(conflict=true) and a warning, or fails with O(fail_on_conflict=true). So a rollback play can be
    run again safely.
  - Throttling (429) and unavailable services (503, 504) are retried, honouring C(Retry-After). If a cancel was accepted
    but its reply was lost and the retry meets 409, the task is read back; when its workloads are now C(pendingCancel)
    or C(cancelled), the module reports C(changed) with a warning instead of a conflict.
  - Calls are made in the B(target) tenant and need the Graph permission C(CrossTenantContentMigration.ReadWrite.All)
    (check mode and diff mode also read the task, which C(CrossTenantContentMigration.Read.All) allows).
author:
  - msgraph.migrations maintainers (@msgraph-migrations)
extends_documentation_fragment:
  - msgraph.migrations.graph
attributes:
  check_mode:
    support: full
    description:
      - Sends no cancel. Reads the task and its job and predicts the outcome. Graph would answer 409 when a workload is
        C(completed), C(failed), C(cancelled), C(pendingCancel), C(finalizing) or C(forceComplete), when the job is
        C(cuttingOver), C(completed), C(completedWithErrors), C(failed), C(cancelled), C(pendingCancel), C(pendingDelete)
        or C(deleted), or when the job's C(completeAfterDateTime) has passed.
  diff_mode:
    support: full
    description:
      - Shows each workload's status before and after (after is C(pendingCancel), or the prediction in check mode).
        Reads the task before cancelling.
  action_group:
    description: Use C(group/msgraph.migrations.graph) in C(module_defaults) to set the shared options once.
    support: full
    membership:
      - msgraph.migrations.graph
options:
  job_id:
    description:
      - Id (a GUID) of the C(crossTenantMigrationJob) holding the user.
    type: str
    required: true
  task_id:
    description:
      - Id (a GUID) of the C(crossTenantMigrationTask) to cancel, which is the object id of the user in the target tenant.
    type: str
    required: true
    aliases: [user_id]
  fail_on_conflict:
    description:
      - What to do when Graph refuses the cancel with 409 because the user's migration is terminal or too far along.
      - With V(false), the task is C(ok) and not changed, with RV(conflict=true) and a warning; rerunning a rollback is safe.
      - With V(true), the task fails with a message that includes 409 and Graph's message.
    type: bool
    default: false
seealso:
  - name: "crossTenantMigrationTask: cancel"
    description: The Microsoft Graph API this module calls.
    link: https://learn.microsoft.com/en-us/graph/api/crosstenantmigrationtask-cancel
'''

EXAMPLES = r'''
# A runbook step: cancel one user, and stop the runbook if it is too late to cancel.
- name: Cancel the migration of a user who must stay in the source tenant
  msgraph.migrations.crosstenant_migration_task_cancel:
    tenant_id: "{{ target_tenant_id }}"
    client_id: "{{ migration_app_id }}"
    client_secret: "{{ migration_app_secret }}"
    job_id: add14989-2b21-4001-81bd-a18b0bac1dea
    task_id: 6a88de8d-7027-44c1-8674-03f826aa1704
    fail_on_conflict: true

# A rollback play that is safe to run twice: users already cancelled (409) are ok, not failures.
# Run it with --check --diff first to see which users would be cancelled.
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
    - name: Cancel each user's migration
      msgraph.migrations.crosstenant_migration_task_cancel:
        job_id: "{{ wave_job_id }}"
        task_id: "{{ item }}"
      loop: "{{ rollback_users }}"
      register: rollback

    - name: Report what was cancelled now and what had already ended
      ansible.builtin.debug:
        msg:
          cancelled_now: "{{ rollback.results | selectattr('changed') | map(attribute='task_id') | list }}"
          already_terminal: "{{ rollback.results | selectattr('conflict') | map(attribute='task_id') | list }}"

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

    - name: Show Graph's answer
      ansible.builtin.debug:
        msg: >-
          {{ (cancel.cancel_response | default({})).message | default('Cancel predicted (check mode) or confirmed')
             if cancel.changed else 'Nothing to cancel: ' ~ (cancel.error.message | default('no change')) }}
'''

RETURN = r'''
job_id:
  description: The job id, in lower case.
  returned: success, and failures after the ids were validated
  type: str
  sample: add14989-2b21-4001-81bd-a18b0bac1dea
task_id:
  description: The task (user) id, in lower case.
  returned: success, and failures after the ids were validated
  type: str
  sample: 6a88de8d-7027-44c1-8674-03f826aa1704
status_code:
  description: HTTP status of Graph's answer to the cancel. V(null) in check mode, where no cancel is sent.
  returned: success, and failures where Graph answered
  type: int
  sample: 202
cancel_response:
  description: Graph's reply to an accepted cancel, as Graph sent it.
  returned: when Graph accepted the cancel
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
conflict:
  description:
    - Whether Graph refused the cancel with 409 (or, in check mode, would refuse it), because the user's migration is
      already terminal or can no longer be cancelled.
  returned: success, and failures caused by a 409
  type: bool
  sample: false
task:
  description: The task as read from Graph, when it was read (check mode, diff mode, or to confirm a cancel whose reply was lost).
  returned: when read
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
request_id:
  description: The C(request-id) of Graph's answer to the cancel (in check mode, to the read of the task); quote it to Microsoft support.
  returned: when Graph answered
  type: str
  sample: 3f8d2c1b-8e5a-4b7c-9d2e-1a6f0c4b7e93
error:
  description: Graph's error, when Graph answered with one (a refused cancel included).
  returned: on failures where Graph answered, and when Graph refused the cancel with 409 (not for a conflict predicted in check mode)
  type: dict
  contains:
    code:
      description: Graph's C(error.code); branch on this, not on the message.
      type: str
      sample: Conflict
    message:
      description: Graph's C(error.message).
      type: str
      sample: Cancel is not possible. Current status is completed
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.msgraph.migrations.plugins.module_utils.migration import TaskCanceller, validate_guid
from ansible_collections.msgraph.migrations.plugins.module_utils.runner import run_graph_module
from ansible_collections.msgraph.migrations.plugins.module_utils.settings import graph_argument_spec


def main() -> None:
    module = AnsibleModule(
        argument_spec=graph_argument_spec(
            job_id=dict(type='str', required=True),
            task_id=dict(type='str', required=True, aliases=['user_id']),
            fail_on_conflict=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )

    def cancel(client):
        return TaskCanceller(client, module.warn).cancel(
            job_id=validate_guid('job_id', module.params['job_id']),
            task_id=validate_guid('task_id', module.params['task_id']),
            fail_on_conflict=module.params['fail_on_conflict'],
            check_mode=module.check_mode,
            want_diff=module._diff,
        )

    run_graph_module(module, cancel)


if __name__ == '__main__':
    main()
