# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The live emulated world: lookups, the passing of time, cancellations and tokens."""

from __future__ import annotations

import heapq
import itertools
import secrets
import threading
import time
from typing import Any, Optional

from .model import JOB_BLOCKING, Identity, Job, Task, Tenant, TokenInfo
from .scenario import Scenario
from .util import iso


class State:  # pylint: disable=too-many-instance-attributes
    """Everything the emulator knows, started from a scenario. All access goes through `lock`."""

    def __init__(self, scenario: Scenario):
        self.lock = threading.RLock()
        self.settings: dict[str, Any] = scenario.settings
        self.tenants: dict[str, Tenant] = scenario.tenants
        self._domains = scenario.domains
        self.identity_header: str = scenario.identity_header
        self.identities: list[Identity] = scenario.identities
        self.jobs: dict[str, Job] = scenario.jobs
        self.fault_specs: list[Any] = scenario.faults
        self.tokens: dict[str, TokenInfo] = {}
        self._pending: list[tuple[float, int, str, str, Optional[str]]] = []
        self._seq = itertools.count()
        # Whatever the scenario loaded as pendingCancel turns cancelled cancel_delay_seconds after load.
        loaded = scenario.loaded_at
        for job in self.jobs.values():
            if job.status.lower() == 'pendingcancel':
                self._schedule(loaded, job.id, None)
            for task in job.tasks.values():
                if task.has_status('pendingcancel'):
                    self._schedule(loaded, job.id, task.id)

    # ----- lookups -------------------------------------------------------------------------

    def tenant(self, name: str) -> Optional[Tenant]:
        """A tenant by GUID or by one of its domains."""
        key = name.lower()
        key = self._domains.get(key, key)
        return self.tenants.get(key)

    def default_tenant_id(self) -> Optional[str]:
        """The first tenant's id, or None."""
        return next(iter(self.tenants.values())).id if self.tenants else None

    def find_job(self, job_id: str) -> Optional[Job]:
        """A job by id (case-insensitive), with due cancellations applied."""
        self.advance()
        return self.jobs.get(job_id.lower())

    def find_task(self, job_id: str, task_id: str) -> Optional[Task]:
        """A task of a job by ids (case-insensitive), or None."""
        job = self.find_job(job_id)
        return job.tasks.get(task_id.lower()) if job else None

    # ----- time ----------------------------------------------------------------------------

    def _schedule(self, start: float, job_id: str, task_id: Optional[str]) -> None:
        delay = self.settings['cancel_delay_seconds']
        if delay is None:
            return
        heapq.heappush(self._pending, (start + float(delay), next(self._seq), job_id.lower(), 'task' if task_id else 'job', task_id))

    def advance(self, now: Optional[float] = None) -> None:
        """Move every pendingCancel whose delay has passed on to cancelled (evaluated lazily on access)."""
        now = time.time() if now is None else now
        with self.lock:
            while self._pending and self._pending[0][0] <= now:
                due, _seq, job_key, what, task_id = heapq.heappop(self._pending)
                job = self.jobs.get(job_key)
                if job is None:
                    continue
                if what == 'job':
                    if job.status.lower() == 'pendingcancel':
                        job.status = 'cancelled'
                        job.last_updated = due
                    continue
                task = job.tasks.get(str(task_id).lower())
                if task is None:
                    continue
                changed = False
                for workload in task.workloads:
                    if str(workload['status']).lower() == 'pendingcancel':
                        workload['status'] = 'cancelled'
                        changed = True
                if changed:
                    task.last_updated = due

    # ----- operations ----------------------------------------------------------------------

    @staticmethod
    def _job_conflict(job: Job, now: float) -> Optional[str]:
        if job.status.lower() in JOB_BLOCKING:
            return 'Cancel is not possible. Current status is %s' % job.status
        if now >= job.complete_after:
            return "Cancel is not possible. Current status is %s; the job's completeAfterDateTime %s has passed" % (
                job.status, iso(job.complete_after))
        return None

    def _start_cancel(self, job: Job, task: Task, now: float) -> None:
        for workload in task.workloads:
            workload['status'] = 'pendingCancel'
        task.last_updated = now
        self._schedule(now, job.id, task.id)

    def cancel_task(self, job: Job, task: Task, now: Optional[float] = None) -> Optional[str]:
        """Cancel one task; return None when accepted, else the conflict message."""
        now = time.time() if now is None else now
        with self.lock:
            self.advance(now)
            blocking = task.blocking_status()
            if blocking is not None:
                return 'Cancel is not possible. Current status is %s' % blocking
            conflict = self._job_conflict(job, now)
            if conflict is not None:
                return conflict
            self._start_cancel(job, task, now)
            return None

    def cancel_job(self, job: Job, now: Optional[float] = None) -> Optional[str]:
        """Cancel a whole job; return None when accepted, else the conflict message."""
        now = time.time() if now is None else now
        with self.lock:
            self.advance(now)
            conflict = self._job_conflict(job, now)
            if conflict is not None:
                return conflict
            job.status = 'pendingCancel'
            job.last_updated = now
            self._schedule(now, job.id, None)
            for task in job.tasks.values():
                if task.blocking_status() is None:
                    self._start_cancel(job, task, now)
            return None

    # ----- tokens --------------------------------------------------------------------------

    def issue_token(self, tenant_id: str, client_id: str, roles: list[str], lifetime: int, kind: str, audience: Optional[str]) -> str:
        """Remember and return a fresh opaque access token."""
        token = 'emu.' + secrets.token_urlsafe(40)
        with self.lock:
            self.tokens[token] = TokenInfo(tenant_id=tenant_id, client_id=client_id, roles=list(roles), expires_at=time.time() + lifetime,
                                           kind=kind, audience=audience)
        return token

    def token_info(self, token: str) -> Optional[TokenInfo]:
        """What the emulator knows about a token, or None."""
        with self.lock:
            return self.tokens.get(token)

    def expire_tokens(self) -> int:
        """Make every issued token expired; return how many."""
        with self.lock:
            past = time.time() - 1
            for info in self.tokens.values():
                info.expires_at = min(info.expires_at, past)
            return len(self.tokens)

    # ----- views ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Jobs with their tasks, as currently seen."""
        with self.lock:
            self.advance()
            jobs = []
            for job in self.jobs.values():
                view = job.as_graph()
                view['tasks'] = [task.as_graph() for task in job.tasks.values()]
                jobs.append(view)
            return {'settings': dict(self.settings), 'jobs': jobs, 'tokens_issued': len(self.tokens)}
