# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulated world: scenario loading, tenants, apps, managed identities, jobs, tasks and tokens."""

from __future__ import annotations

import copy
import heapq
import itertools
import json
import os
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import yaml
from cryptography import x509

from .util import is_guid, iso, parse_datetime

READ_ROLES = ("CrossTenantContentMigration.Read.All", "CrossTenantContentMigration.ReadWrite.All")
WRITE_ROLES = ("CrossTenantContentMigration.ReadWrite.All",)

# Workload statuses that block a task cancel (compared case-insensitively).
TASK_BLOCKING = frozenset({"completed", "failed", "cancelled", "pendingcancel", "finalizing", "forcecomplete"})
# Job statuses in which neither the job nor its tasks can be cancelled.
JOB_BLOCKING = frozenset({"cuttingover", "completed", "completedwitherrors", "failed", "cancelled", "pendingcancel", "pendingdelete", "deleted"})

DEFAULT_SETTINGS: Dict[str, Any] = {
    "cancel_delay_seconds": 2,
    "page_size": 100,
    "latency_ms": 0,
    "token_lifetime_seconds": 3600,
    "batch_order": "reversed",
}
DEFAULT_SOURCE_TENANT = "00000000-0000-4000-8000-0000000000bb"
DEFAULT_IDENTITY_HEADER = "emulator-identity-header"
DEFAULT_WORKLOADS = (("Exchange", "inProgress"), ("ODSP", "notStarted"), ("Teams", "notStarted"))
_TOP_KEYS = frozenset({"settings", "tenants", "managed_identity", "jobs", "faults"})
_TENANT_KEYS = frozenset({"id", "displayName", "domains", "apps"})
_APP_KEYS = frozenset({"client_id", "displayName", "secret", "certificate_pem", "certificate_file", "federated_credentials", "roles"})
_FED_KEYS = frozenset({"issuer", "subject", "audiences", "name"})
_MI_KEYS = frozenset({"identity_header", "identities"})
_IDENTITY_KEYS = frozenset({"client_id", "tenant_id", "roles", "object_id", "resource_id"})
_JOB_KEYS = frozenset({
    "id", "displayName", "jobType", "status", "completeAfterDateTime", "sourceTenantId", "targetTenantId", "message",
    "createdDateTime", "createdBy", "lastUpdatedDateTime", "exchangeSettings", "workloads", "resourceType", "tasks",
})
_TASK_KEYS = frozenset({"id", "workloads", "lastUpdatedDateTime", "taskType"})
_WORKLOAD_KEYS = frozenset({"service", "status", "message", "errors"})


class ScenarioError(ValueError):
    """A scenario that cannot be loaded."""


def _check_keys(obj: Any, allowed: frozenset, where: str) -> Dict[str, Any]:
    if not isinstance(obj, dict):
        raise ScenarioError("%s: must be a mapping" % where)
    unknown = set(obj) - allowed
    if unknown:
        raise ScenarioError("%s: unknown keys %s" % (where, ", ".join(sorted(str(k) for k in unknown))))
    return obj


def _guid(value: Any, where: str) -> str:
    if not is_guid(value):
        raise ScenarioError("%s: %r is not a GUID" % (where, value))
    return str(value)


def _list(value: Any, where: str) -> List[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScenarioError("%s: must be a list" % where)
    return value


def _str_list(value: Any, where: str) -> List[str]:
    items = _list(value, where)
    for item in items:
        if not isinstance(item, str):
            raise ScenarioError("%s: must be a list of strings" % where)
    return list(items)


def _load_certificates(pem: str) -> List[x509.Certificate]:
    """Every certificate in a PEM text (works with older cryptography releases too)."""
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, flags=re.DOTALL)
    if not blocks:
        raise ValueError("no PEM certificate found")
    return [x509.load_pem_x509_certificate(block.encode("ascii")) for block in blocks]


def default_scenario_path() -> str:
    """Where the built-in scenario file lives."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios", "default.yml")


def load_scenario(source: Any) -> Tuple[Dict[str, Any], str]:
    """Read a scenario from None (the built-in one), a dict, or a YAML/JSON file path; return (dict, base_dir)."""
    if source is None:
        source = default_scenario_path()
    if isinstance(source, dict):
        return copy.deepcopy(source), os.getcwd()
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            with open(path, "r", encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise ScenarioError("cannot read scenario %s: %s" % (path, exc.strerror)) from exc
        try:
            data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise ScenarioError("cannot parse scenario %s: %s" % (path, exc)) from exc
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ScenarioError("scenario %s: the top level must be a mapping" % path)
        return data, os.path.dirname(os.path.abspath(path))
    raise ScenarioError("a scenario must be None, a dict or a file path")


@dataclass
class App:
    """An app registration."""

    client_id: str
    tenant_id: str
    roles: List[str]
    secrets: List[str] = field(default_factory=list)
    certificates: List[x509.Certificate] = field(default_factory=list)
    federated: List[Dict[str, Any]] = field(default_factory=list)


@dataclass
class Tenant:
    """A directory."""

    id: str
    domains: List[str]
    apps: Dict[str, App]


@dataclass
class Identity:
    """A managed identity."""

    client_id: str
    tenant_id: str
    roles: List[str]
    system: bool
    object_id: Optional[str] = None
    resource_id: Optional[str] = None


@dataclass
class TokenInfo:
    """What the emulator remembers about an access token it issued."""

    tenant_id: str
    client_id: str
    roles: List[str]
    expires_at: float
    kind: str
    audience: Optional[str] = None


@dataclass
class Task:
    """A crossTenantMigrationTask: one user in a job."""

    id: str
    workloads: List[Dict[str, Any]]
    last_updated: float
    task_type: str = "Users"

    def blocking_status(self) -> Optional[str]:
        """The first workload status that blocks a cancel, or None."""
        for workload in self.workloads:
            if str(workload["status"]).lower() in TASK_BLOCKING:
                return str(workload["status"])
        return None

    def as_graph(self) -> Dict[str, Any]:
        """The Graph representation."""
        return {
            "id": self.id,
            "taskType": self.task_type,
            "lastUpdatedDateTime": iso(self.last_updated, fraction=True),
            "currentStatus": [
                {"service": w["service"], "status": w["status"], "message": w.get("message", ""), "errors": copy.deepcopy(w.get("errors", []))}
                for w in self.workloads
            ],
        }


@dataclass
class Job:
    """A crossTenantMigrationJob."""

    id: str
    fields: Dict[str, Any]
    status: str
    complete_after: float
    created: float
    last_updated: float
    tasks: Dict[str, Task]

    def as_graph(self) -> Dict[str, Any]:
        """The Graph representation."""
        out: Dict[str, Any] = {"id": self.id}
        out["displayName"] = self.fields["displayName"]
        out["jobType"] = self.fields["jobType"]
        out["sourceTenantId"] = self.fields["sourceTenantId"]
        out["targetTenantId"] = self.fields["targetTenantId"]
        out["completeAfterDateTime"] = iso(self.complete_after)
        out["status"] = self.status
        out["message"] = self.fields["message"]
        out["createdDateTime"] = iso(self.created)
        out["createdBy"] = self.fields["createdBy"]
        out["lastUpdatedDateTime"] = iso(self.last_updated, fraction=True)
        out["exchangeSettings"] = copy.deepcopy(self.fields["exchangeSettings"])
        out["workloads"] = list(self.fields["workloads"])
        out["resourceType"] = self.fields["resourceType"]
        out["resources"] = [task.id for task in self.tasks.values()]
        return out


class State:  # pylint: disable=too-many-instance-attributes
    """Everything the emulator knows. All access goes through `lock`."""

    def __init__(self, scenario: Dict[str, Any], base_dir: str, now: Optional[float] = None):
        now = time.time() if now is None else now
        self.lock = threading.RLock()
        _check_keys(scenario, _TOP_KEYS, "scenario")
        self.settings = self._load_settings(scenario.get("settings"))
        self.tenants: Dict[str, Tenant] = {}
        self._domains: Dict[str, str] = {}
        for index, raw in enumerate(_list(scenario.get("tenants"), "tenants")):
            self._load_tenant(raw, "tenants[%d]" % index, base_dir)
        self.identity_header = DEFAULT_IDENTITY_HEADER
        self.identities: List[Identity] = []
        self._load_mi(scenario.get("managed_identity"))
        self.jobs: Dict[str, Job] = {}
        for index, raw in enumerate(_list(scenario.get("jobs"), "jobs")):
            self._load_job(raw, "jobs[%d]" % index, now)
        self.fault_specs = _list(scenario.get("faults"), "faults")
        self.tokens: Dict[str, TokenInfo] = {}
        self._pending: List[Tuple[float, int, str, str, Optional[str]]] = []
        self._seq = itertools.count()
        for job in self.jobs.values():
            if job.status.lower() == "pendingcancel":
                self._schedule(now, job.id, None)
            for task in job.tasks.values():
                if any(str(w["status"]).lower() == "pendingcancel" for w in task.workloads):
                    self._schedule(now, job.id, task.id)

    # ----- loading -------------------------------------------------------------------------

    @staticmethod
    def _load_settings(raw: Any) -> Dict[str, Any]:
        settings = dict(DEFAULT_SETTINGS)
        if raw is None:
            return settings
        _check_keys(raw, frozenset(DEFAULT_SETTINGS), "settings")
        settings.update(raw)
        delay = settings["cancel_delay_seconds"]
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0):
            raise ScenarioError("settings.cancel_delay_seconds: a number >= 0, or null for never")
        size = settings["page_size"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 1000:
            raise ScenarioError("settings.page_size: an integer from 1 to 1000")
        latency = settings["latency_ms"]
        if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not 0 <= latency <= 60000:
            raise ScenarioError("settings.latency_ms: a number from 0 to 60000")
        life = settings["token_lifetime_seconds"]
        if isinstance(life, bool) or not isinstance(life, int) or life < 1:
            raise ScenarioError("settings.token_lifetime_seconds: an integer >= 1")
        if settings["batch_order"] not in ("as_sent", "reversed"):
            raise ScenarioError("settings.batch_order: as_sent or reversed")
        return settings

    def _load_tenant(self, raw: Any, where: str, base_dir: str) -> None:
        _check_keys(raw, _TENANT_KEYS, where)
        tenant_id = _guid(raw.get("id"), where + ".id")
        if tenant_id.lower() in self.tenants:
            raise ScenarioError("%s: duplicate tenant %s" % (where, tenant_id))
        domains = _str_list(raw.get("domains"), where + ".domains")
        tenant = Tenant(id=tenant_id, domains=domains, apps={})
        for index, app_raw in enumerate(_list(raw.get("apps"), where + ".apps")):
            app_where = "%s.apps[%d]" % (where, index)
            _check_keys(app_raw, _APP_KEYS, app_where)
            client_id = _guid(app_raw.get("client_id"), app_where + ".client_id")
            secret = app_raw.get("secret")
            if isinstance(secret, str):
                secret_list = [secret]
            else:
                secret_list = _str_list(secret, app_where + ".secret")
            certs: List[x509.Certificate] = []
            pem = app_raw.get("certificate_pem")
            if app_raw.get("certificate_file"):
                cert_path = os.path.join(base_dir, str(app_raw["certificate_file"]))
                try:
                    with open(cert_path, "r", encoding="utf-8") as handle:
                        pem = (pem or "") + "\n" + handle.read()
                except OSError as exc:
                    raise ScenarioError("%s.certificate_file: cannot read %s: %s" % (app_where, cert_path, exc.strerror)) from exc
            if pem:
                try:
                    certs = _load_certificates(pem)
                except ValueError as exc:
                    raise ScenarioError("%s: the certificate is not valid PEM: %s" % (app_where, exc)) from exc
            federated = []
            for fed_index, fed in enumerate(_list(app_raw.get("federated_credentials"), app_where + ".federated_credentials")):
                fed_where = "%s.federated_credentials[%d]" % (app_where, fed_index)
                _check_keys(fed, _FED_KEYS, fed_where)
                if not isinstance(fed.get("issuer"), str) or not isinstance(fed.get("subject"), str):
                    raise ScenarioError("%s: issuer and subject are required strings" % fed_where)
                audiences = _str_list(fed.get("audiences"), fed_where + ".audiences") or ["api://AzureADTokenExchange"]
                federated.append({"issuer": fed["issuer"], "subject": fed["subject"], "audiences": audiences})
            roles = _str_list(app_raw.get("roles"), app_where + ".roles")
            tenant.apps[client_id.lower()] = App(client_id=client_id, tenant_id=tenant_id, roles=roles, secrets=secret_list,
                                                 certificates=certs, federated=federated)
        self.tenants[tenant_id.lower()] = tenant
        for domain in domains:
            self._domains[domain.lower()] = tenant_id.lower()

    def _load_mi(self, raw: Any) -> None:
        if raw is None:
            return
        _check_keys(raw, _MI_KEYS, "managed_identity")
        header = raw.get("identity_header", DEFAULT_IDENTITY_HEADER)
        if not isinstance(header, str) or not header:
            raise ScenarioError("managed_identity.identity_header: a non-empty string")
        self.identity_header = header
        first_tenant = next(iter(self.tenants.values())).id if self.tenants else None
        for index, ident in enumerate(_list(raw.get("identities"), "managed_identity.identities")):
            where = "managed_identity.identities[%d]" % index
            _check_keys(ident, _IDENTITY_KEYS, where)
            tenant_id = ident.get("tenant_id", first_tenant)
            tenant_id = _guid(tenant_id, where + ".tenant_id")
            client_id = ident.get("client_id", "system")
            system = client_id == "system"
            if system:
                client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "msgraph-emulator:system-identity:" + tenant_id.lower()))
            else:
                client_id = _guid(client_id, where + ".client_id")
            object_id = ident.get("object_id")
            if object_id is not None:
                object_id = _guid(object_id, where + ".object_id")
            resource_id = ident.get("resource_id")
            if resource_id is not None and not isinstance(resource_id, str):
                raise ScenarioError("%s.resource_id: a string" % where)
            self.identities.append(Identity(client_id=client_id, tenant_id=tenant_id, roles=_str_list(ident.get("roles"), where + ".roles"),
                                            system=system, object_id=object_id, resource_id=resource_id))

    def _load_job(self, raw: Any, where: str, now: float) -> None:
        _check_keys(raw, _JOB_KEYS, where)
        job_id = _guid(raw.get("id"), where + ".id")
        if job_id.lower() in self.jobs:
            raise ScenarioError("%s: duplicate job %s" % (where, job_id))
        first_tenant = next(iter(self.tenants.values())).id if self.tenants else None
        target = raw.get("targetTenantId", first_tenant)
        if target is None:
            raise ScenarioError("%s.targetTenantId: required when the scenario has no tenants" % where)
        target = _guid(target, where + ".targetTenantId")
        source = _guid(raw.get("sourceTenantId", DEFAULT_SOURCE_TENANT), where + ".sourceTenantId")
        try:
            complete_after = parse_datetime(raw.get("completeAfterDateTime", "2099-01-01T00:00:00Z"), now)
            created = parse_datetime(raw.get("createdDateTime", now), now)
            last_updated = parse_datetime(raw.get("lastUpdatedDateTime", now), now)
        except ValueError as exc:
            raise ScenarioError("%s: %s" % (where, exc)) from exc
        tasks: Dict[str, Task] = {}
        services: List[str] = []
        for index, task_raw in enumerate(_list(raw.get("tasks"), where + ".tasks")):
            task = self._load_task(task_raw, "%s.tasks[%d]" % (where, index), now)
            if task.id.lower() in tasks:
                raise ScenarioError("%s.tasks[%d]: duplicate task %s" % (where, index, task.id))
            tasks[task.id.lower()] = task
            for workload in task.workloads:
                if workload["service"] not in services:
                    services.append(workload["service"])
        status = raw.get("status", "inProgress")
        if not isinstance(status, str) or not status:
            raise ScenarioError("%s.status: a string" % where)
        fields = {
            "displayName": str(raw.get("displayName", "Migration job %d" % (len(self.jobs) + 1))),
            "jobType": str(raw.get("jobType", "migrate")),
            "sourceTenantId": source,
            "targetTenantId": target,
            "message": str(raw.get("message", "")),
            "createdBy": str(raw.get("createdBy", "admin@contoso.onmicrosoft.com")),
            "exchangeSettings": raw.get("exchangeSettings") or {},
            "workloads": _str_list(raw.get("workloads"), where + ".workloads") if raw.get("workloads") is not None else services,
            "resourceType": str(raw.get("resourceType", "Users")),
        }
        self.jobs[job_id.lower()] = Job(id=job_id, fields=fields, status=status, complete_after=complete_after, created=created,
                                        last_updated=last_updated, tasks=tasks)

    @staticmethod
    def _load_task(raw: Any, where: str, now: float) -> Task:
        if isinstance(raw, str):
            raw = {"id": raw}
        _check_keys(raw, _TASK_KEYS, where)
        task_id = _guid(raw.get("id"), where + ".id")
        workloads_raw = raw.get("workloads")
        workloads: List[Dict[str, Any]] = []
        if workloads_raw is None:
            workloads = [{"service": s, "status": st, "message": "", "errors": []} for s, st in DEFAULT_WORKLOADS]
        elif isinstance(workloads_raw, dict):
            for service, status in workloads_raw.items():
                if not isinstance(status, str) or not status:
                    raise ScenarioError("%s.workloads.%s: a status string" % (where, service))
                workloads.append({"service": str(service), "status": status, "message": "", "errors": []})
        elif isinstance(workloads_raw, list):
            for index, item in enumerate(workloads_raw):
                wl_where = "%s.workloads[%d]" % (where, index)
                _check_keys(item, _WORKLOAD_KEYS, wl_where)
                if not isinstance(item.get("service"), str) or not isinstance(item.get("status"), str):
                    raise ScenarioError("%s: service and status are required strings" % wl_where)
                workloads.append({"service": item["service"], "status": item["status"], "message": str(item.get("message", "")),
                                  "errors": _list(item.get("errors"), wl_where + ".errors")})
        else:
            raise ScenarioError("%s.workloads: a mapping of service to status, or a list" % where)
        try:
            last_updated = parse_datetime(raw.get("lastUpdatedDateTime", now), now)
        except ValueError as exc:
            raise ScenarioError("%s: %s" % (where, exc)) from exc
        return Task(id=task_id, workloads=workloads, last_updated=last_updated, task_type=str(raw.get("taskType", "Users")))

    # ----- lookups -------------------------------------------------------------------------

    def tenant(self, name: str) -> Optional[Tenant]:
        """A tenant by GUID or by one of its domains."""
        key = name.lower()
        key = self._domains.get(key, key)
        return self.tenants.get(key)

    def find_job(self, job_id: str) -> Optional[Job]:
        """A job by id (case-insensitive), with due cancellations applied."""
        self.advance()
        return self.jobs.get(job_id.lower())

    # ----- time ----------------------------------------------------------------------------

    def _schedule(self, start: float, job_id: str, task_id: Optional[str]) -> None:
        delay = self.settings["cancel_delay_seconds"]
        if delay is None:
            return
        heapq.heappush(self._pending, (start + float(delay), next(self._seq), job_id.lower(), "task" if task_id else "job", task_id))

    def advance(self, now: Optional[float] = None) -> None:
        """Move every pendingCancel whose delay has passed on to cancelled (evaluated lazily on access)."""
        now = time.time() if now is None else now
        with self.lock:
            while self._pending and self._pending[0][0] <= now:
                due, _seq, job_key, what, task_id = heapq.heappop(self._pending)
                job = self.jobs.get(job_key)
                if job is None:
                    continue
                if what == "job":
                    if job.status.lower() == "pendingcancel":
                        job.status = "cancelled"
                        job.last_updated = due
                    continue
                task = job.tasks.get(str(task_id).lower())
                if task is None:
                    continue
                changed = False
                for workload in task.workloads:
                    if str(workload["status"]).lower() == "pendingcancel":
                        workload["status"] = "cancelled"
                        changed = True
                if changed:
                    task.last_updated = due

    # ----- operations ----------------------------------------------------------------------

    def cancel_task(self, job: Job, task: Task, now: Optional[float] = None) -> Optional[str]:
        """Cancel one task; return None when accepted, else the conflict message."""
        now = time.time() if now is None else now
        with self.lock:
            self.advance(now)
            blocking = task.blocking_status()
            if blocking is not None:
                return "Cancel is not possible. Current status is %s" % blocking
            if job.status.lower() in JOB_BLOCKING:
                return "Cancel is not possible. Current status is %s" % job.status
            if now >= job.complete_after:
                return "Cancel is not possible. Current status is %s; the job's completeAfterDateTime %s has passed" % (
                    job.status, iso(job.complete_after))
            for workload in task.workloads:
                workload["status"] = "pendingCancel"
            task.last_updated = now
            self._schedule(now, job.id, task.id)
            return None

    def cancel_job(self, job: Job, now: Optional[float] = None) -> Optional[str]:
        """Cancel a whole job; return None when accepted, else the conflict message."""
        now = time.time() if now is None else now
        with self.lock:
            self.advance(now)
            if job.status.lower() in JOB_BLOCKING:
                return "Cancel is not possible. Current status is %s" % job.status
            if now >= job.complete_after:
                return "Cancel is not possible. Current status is %s; the job's completeAfterDateTime %s has passed" % (
                    job.status, iso(job.complete_after))
            job.status = "pendingCancel"
            job.last_updated = now
            self._schedule(now, job.id, None)
            for task in job.tasks.values():
                if task.blocking_status() is None:
                    for workload in task.workloads:
                        workload["status"] = "pendingCancel"
                    task.last_updated = now
                    self._schedule(now, job.id, task.id)
            return None

    # ----- tokens --------------------------------------------------------------------------

    def issue_token(self, tenant_id: str, client_id: str, roles: List[str], lifetime: int, kind: str, audience: Optional[str]) -> str:
        """Remember and return a fresh opaque access token."""
        token = "emu." + secrets.token_urlsafe(40)
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

    def snapshot(self) -> Dict[str, Any]:
        """Jobs with their tasks, as currently seen."""
        with self.lock:
            self.advance()
            jobs = []
            for job in self.jobs.values():
                view = job.as_graph()
                view["tasks"] = [task.as_graph() for task in job.tasks.values()]
                jobs.append(view)
            return {"settings": dict(self.settings), "jobs": jobs, "tokens_issued": len(self.tokens)}
