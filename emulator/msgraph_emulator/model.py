# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The emulated world's records: app registrations, tenants, managed identities, tokens, jobs and tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from cryptography import x509

from .util import iso

READ_ROLES = ('CrossTenantContentMigration.Read.All', 'CrossTenantContentMigration.ReadWrite.All')
WRITE_ROLES = ('CrossTenantContentMigration.ReadWrite.All',)

# Workload statuses that block a task cancel (compared case-insensitively).
TASK_BLOCKING = frozenset({'completed', 'failed', 'cancelled', 'pendingcancel', 'finalizing', 'forcecomplete'})
# Job statuses in which neither the job nor its tasks can be cancelled.
JOB_BLOCKING = frozenset({'cuttingover', 'completed', 'completedwitherrors', 'failed', 'cancelled', 'pendingcancel', 'pendingdelete', 'deleted'})


@dataclass
class App:
    """An app registration."""

    client_id: str
    tenant_id: str
    roles: list[str]
    secrets: list[str] = field(default_factory=list)
    certificates: list[x509.Certificate] = field(default_factory=list)
    federated: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Tenant:
    """A directory."""

    id: str
    domains: list[str]
    apps: dict[str, App]


@dataclass
class Identity:
    """A managed identity."""

    client_id: str
    tenant_id: str
    roles: list[str]
    system: bool
    object_id: Optional[str] = None
    resource_id: Optional[str] = None


@dataclass
class TokenInfo:
    """What the emulator remembers about an access token it issued."""

    tenant_id: str
    client_id: str
    roles: list[str]
    expires_at: float
    kind: str
    audience: Optional[str] = None


def _workload_view(workload: dict[str, Any]) -> dict[str, Any]:
    # Copy the errors list only when there is one: pages of 1000 tasks are built often.
    errors = workload.get('errors')
    return {'service': workload['service'], 'status': workload['status'], 'message': workload.get('message', ''),
            'errors': _deep_copy(errors) if errors else []}


# A task's currentStatus taken from its workloads (no raw value given).
FROM_WORKLOADS: Any = object()


@dataclass
class Task:
    """A crossTenantMigrationTask: one user in a job.

    ``raw_current_status`` (any JSON value) is shown as ``currentStatus`` verbatim instead of the workloads, to rehearse
    odd data; ``omit`` names representation keys left out. Either way the workloads alone decide a cancel.
    """

    id: str
    workloads: list[dict[str, Any]]
    last_updated: float
    task_type: str = 'Users'
    raw_current_status: Any = FROM_WORKLOADS
    omit: tuple[str, ...] = ()

    def blocking_status(self) -> Optional[str]:
        """The first workload status that blocks a cancel, or None."""
        for workload in self.workloads:
            if str(workload['status']).lower() in TASK_BLOCKING:
                return str(workload['status'])
        return None

    def has_status(self, status: str) -> bool:
        """Whether any workload is in ``status`` (lower case)."""
        return any(str(w['status']).lower() == status for w in self.workloads)

    def as_graph(self) -> dict[str, Any]:
        """The Graph representation."""
        current = ([_workload_view(w) for w in self.workloads] if self.raw_current_status is FROM_WORKLOADS
                   else _deep_copy(self.raw_current_status))
        view = {
            'id': self.id,
            'taskType': self.task_type,
            'lastUpdatedDateTime': iso(self.last_updated, fraction=True),
            'currentStatus': current,
        }
        return _without(view, self.omit)


@dataclass
class Job:  # pylint: disable=too-many-instance-attributes
    """A crossTenantMigrationJob. ``tasks`` is keyed by lower-case id and keeps the scenario's order.

    A ``status`` of ``''`` is shown as null (a scenario's ``status: null``); ``omit`` names representation keys left out.
    """

    id: str
    fields: dict[str, Any]
    status: str
    complete_after: float
    created: float
    last_updated: float
    tasks: dict[str, Task]
    omit: tuple[str, ...] = ()

    def as_graph(self) -> dict[str, Any]:
        """The Graph representation."""
        return _without(self._view(), self.omit)

    def _view(self) -> dict[str, Any]:
        return {
            'id': self.id,
            'displayName': self.fields['displayName'],
            'jobType': self.fields['jobType'],
            'sourceTenantId': self.fields['sourceTenantId'],
            'targetTenantId': self.fields['targetTenantId'],
            'completeAfterDateTime': iso(self.complete_after),
            'status': self.status or None,
            'message': self.fields['message'],
            'createdDateTime': iso(self.created),
            'createdBy': self.fields['createdBy'],
            'lastUpdatedDateTime': iso(self.last_updated, fraction=True),
            'exchangeSettings': _deep_copy(self.fields['exchangeSettings']),
            'workloads': list(self.fields['workloads']),
            'resourceType': self.fields['resourceType'],
            'resources': [task.id for task in self.tasks.values()],
        }


def _without(view: dict[str, Any], omit: tuple[str, ...]) -> dict[str, Any]:
    for key in omit:
        view.pop(key, None)
    return view


def _deep_copy(value: Any) -> Any:
    # Scenario values are plain JSON-like data: a recursive copy is enough and much faster than copy.deepcopy.
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value
