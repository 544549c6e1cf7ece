#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: crosstenant_migration_job_info
short_description: Read cross-tenant migration jobs, and whether each can still be cancelled
version_added: 0.2.0
description:
  - Reads one C(crossTenantMigrationJob) (O(job_id)) or every job of the tenant (paged, following C(@odata.nextLink)),
    and says for each whether it can still be cancelled, and why not.
  - Needs the Graph permission C(CrossTenantContentMigration.Read.All) (or C(CrossTenantContentMigration.ReadWrite.All))
    in the B(target) tenant. Graph lists the jobs whose target is the token's tenant.
  - A listing follows only absolute C(https) links under Graph's own version root, and fails after 2,000 pages or
    20,000 jobs. A read of one job answering for another job is refused.
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
      - Id (a GUID) of one job. Without it, every job is read.
    type: str
seealso:
  - module: msgraph.migrations.crosstenant_migration_job_cancel
  - module: msgraph.migrations.crosstenant_migration_task_info
'''

EXAMPLES = r'''
- name: Read every migration job of the target tenant
  msgraph.migrations.crosstenant_migration_job_info:
  register: migration_jobs

- name: Name the jobs that can still be cancelled
  ansible.builtin.debug:
    msg: "{{ migration_jobs.jobs | selectattr('cancellable') | map(attribute='displayName') | list }}"

- name: Read one job
  msgraph.migrations.crosstenant_migration_job_info:
    job_id: add14989-2b21-4001-81bd-a18b0bac1dea
  register: wave
'''

RETURN = r'''
jobs:
  description:
    - The jobs, each as Graph sent it, plus the keys C(cancellable), C(state) and C(state_reason) that this module adds.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The job id, as Graph sent it.
      type: str
    displayName:
      description: The job's name.
      type: str
    status:
      description: Graph's status of the job.
      type: str
      sample: inProgress
    completeAfterDateTime:
      description: After this time nothing in the job can be cancelled.
      type: str
    cancellable:
      description: Whether a cancel of the job would go through now (false when RV(jobs[].state) is not V(cancellable)).
      type: bool
      sample: true
    state:
      description:
        - What a cancel of the job would meet now - V(cancellable), V(already_cancelled), V(not_cancellable) or V(unknown).
        - V(unknown) - the job's status cannot be judged (missing, C(unknownFutureValue), or a value this collection does not
          know); a warning names the job. A real cancel is still sent, and Graph judges it.
      type: str
      sample: cancellable
    state_reason:
      description: Why, in words.
      type: str
      sample: the job is cuttingOver
job_ids:
  description: The ids (lower case) of RV(jobs).
  returned: success
  type: list
  elements: str
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

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.module import GraphModule, GraphSession
from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.results import note_deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import TaskCanceller, raise_for_reply
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.jobs import assess_job
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import CANCELLABLE, JOBS_PATH, UNKNOWN, is_job, validate_guid


def main() -> None:
    module = GraphModule(dict(job_id=dict(type='str')))
    params = module.params

    def validate() -> None:
        if params['job_id'] is not None:
            module.context['job_id'] = validate_guid('job_id', params['job_id'])

    def read(session: GraphSession) -> dict:
        if params['job_id'] is not None:
            jobs = [TaskCanceller(session.client, module.warn).read_job(module.context['job_id'], session.deadline)]
        else:
            try:
                jobs, reply = session.client.list_all(JOBS_PATH, session.deadline)
                if not reply.ok:
                    raise_for_reply(reply, 'Listing the migration jobs failed', write=False)
            except GraphMigrationsError as exc:
                raise note_deadline(exc, session.deadline, session.client.pages_listed)
            if not all(is_job(job) for job in jobs):
                raise GraphMigrationsError('Listing the migration jobs returned items that are not jobs; nothing can be judged from them.')
        entries = []
        for job in jobs:
            assessment = assess_job(job)
            entry = dict(job)
            entry.update(cancellable=assessment.state == CANCELLABLE, state=assessment.state, state_reason=assessment.reason)
            entries.append(entry)
        unjudged = ['%s (%s)' % (entry['id'], entry['state_reason']) for entry in entries if entry['state'] == UNKNOWN]
        if unjudged:
            module.warn('%d job(s) have a status this collection cannot judge (state unknown, cancellable false): %s.'
                        % (len(unjudged), '; '.join(unjudged[:5]) + (' and %d more' % (len(unjudged) - 5) if len(unjudged) > 5 else '')))
        return dict(changed=False, jobs=entries, job_ids=[str(job['id']).lower() for job in entries])

    module.run(read, validate=validate)


if __name__ == '__main__':
    main()
