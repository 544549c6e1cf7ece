# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Scenarios: read a YAML/JSON scenario, validate it and build the plain records the live state starts from."""

from __future__ import annotations

import copy
import json
import os
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

import yaml
from cryptography import x509

from .model import FROM_WORKLOADS, App, Identity, Job, Task, Tenant
from .util import is_guid, parse_datetime

# The migration API versions served by default (settings.api_versions).
API_VERSIONS = ('v1.0', 'beta')
DEFAULT_SETTINGS: dict[str, Any] = {
    'cancel_delay_seconds': 2,
    'page_size': 100,
    'latency_ms': 0,
    'token_lifetime_seconds': 3600,
    'batch_order': 'reversed',
    'api_versions': list(API_VERSIONS),
}
DEFAULT_SOURCE_TENANT = '00000000-0000-4000-8000-0000000000bb'
DEFAULT_IDENTITY_HEADER = 'emulator-identity-header'
DEFAULT_WORKLOADS = (('Exchange', 'inProgress'), ('ODSP', 'notStarted'), ('Teams', 'notStarted'))

# generate_tasks: the states a generated task can start in, as (service, status) workloads.
GENERATED_STATES: dict[str, tuple[tuple[str, str], ...]] = {
    'cancellable': (('Exchange', 'inProgress'), ('ODSP', 'notStarted'), ('Teams', 'notStarted')),
    'cancellable_syncing': (('Exchange', 'syncing'), ('ODSP', 'notStarted')),
    'completed': (('Exchange', 'completed'), ('ODSP', 'completed'), ('Teams', 'completed')),
    'mailbox_moved': (('Exchange', 'completed'), ('ODSP', 'inProgress'), ('Teams', 'notStarted')),
    'cancelled': (('Exchange', 'cancelled'), ('ODSP', 'cancelled'), ('Teams', 'cancelled')),
    'pending_cancel': (('Exchange', 'pendingCancel'), ('ODSP', 'pendingCancel'), ('Teams', 'pendingCancel')),
    'failed': (('Exchange', 'failed'), ('ODSP', 'notStarted')),
}
DEFAULT_MIX: dict[str, float] = {'cancellable': 70, 'mailbox_moved': 10, 'cancelled': 10, 'completed': 5, 'failed': 5}
MAX_GENERATED_TASKS = 20000
CANCELLED_AGE_SECONDS = 3 * 86400
_GENERATED_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, 'msgraph-emulator:generated-task')

_TOP_KEYS = frozenset({'settings', 'tenants', 'managed_identity', 'jobs', 'faults'})
_TENANT_KEYS = frozenset({'id', 'displayName', 'domains', 'apps'})
_APP_KEYS = frozenset({'client_id', 'displayName', 'secret', 'certificate_pem', 'certificate_file', 'federated_credentials', 'roles'})
_FED_KEYS = frozenset({'issuer', 'subject', 'audiences', 'name'})
_MI_KEYS = frozenset({'identity_header', 'identities'})
_IDENTITY_KEYS = frozenset({'client_id', 'tenant_id', 'roles', 'object_id', 'resource_id'})
_JOB_KEYS = frozenset({
    'id', 'displayName', 'jobType', 'status', 'completeAfterDateTime', 'sourceTenantId', 'targetTenantId', 'message',
    'createdDateTime', 'createdBy', 'lastUpdatedDateTime', 'exchangeSettings', 'workloads', 'resourceType', 'tasks', 'generate_tasks',
    'omit',
})
_TASK_KEYS = frozenset({'id', 'workloads', 'lastUpdatedDateTime', 'taskType', 'currentStatus', 'omit'})
# Representation keys a scenario may leave out, to rehearse replies missing them.
_JOB_OMITTABLE = frozenset({'status', 'completeAfterDateTime', 'lastUpdatedDateTime', 'displayName', 'message'})
_TASK_OMITTABLE = frozenset({'currentStatus', 'lastUpdatedDateTime', 'taskType'})

_WORKLOAD_KEYS = frozenset({'service', 'status', 'message', 'errors'})
_GENERATE_KEYS = frozenset({'count', 'seed', 'mix'})


class ScenarioError(ValueError):
    """A scenario that cannot be loaded."""


@dataclass
class Scenario:  # pylint: disable=too-many-instance-attributes
    """A validated scenario: plain records, not yet live. Dict keys are lower-case ids."""

    settings: dict[str, Any]
    tenants: dict[str, Tenant] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)
    identity_header: str = DEFAULT_IDENTITY_HEADER
    identities: list[Identity] = field(default_factory=list)
    jobs: dict[str, Job] = field(default_factory=dict)
    faults: list[Any] = field(default_factory=list)
    loaded_at: float = 0.0

    def first_tenant_id(self) -> Optional[str]:
        """The first tenant's id: the default targetTenantId and managed identity tenant."""
        return next(iter(self.tenants.values())).id if self.tenants else None


def default_scenario_path() -> str:
    """Where the built-in scenario file lives."""
    return builtin_scenario_path('default')


def builtin_scenario_path(name: str) -> str:
    """The path of a scenario shipped in msgraph_emulator/scenarios (``default``, ``wave500``)."""
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'scenarios')
    path = os.path.join(base, os.path.basename(name))
    return path if path.endswith(('.yml', '.json')) else path + '.yml'


def load_scenario(source: Any) -> tuple[dict[str, Any], str]:
    """Read a scenario from None (the built-in one), a dict, or a YAML/JSON file path; return (dict, base_dir)."""
    if source is None:
        source = default_scenario_path()
    if isinstance(source, dict):
        return copy.deepcopy(source), os.getcwd()
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            with open(path, 'r', encoding='utf-8') as handle:
                text = handle.read()
        except OSError as exc:
            raise ScenarioError('cannot read scenario %s: %s' % (path, exc.strerror)) from exc
        try:
            data = json.loads(text) if path.endswith('.json') else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise ScenarioError('cannot parse scenario %s: %s' % (path, exc)) from exc
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ScenarioError('scenario %s: the top level must be a mapping' % path)
        return data, os.path.dirname(os.path.abspath(path))
    raise ScenarioError('a scenario must be None, a dict or a file path')


def read_scenario(source: Any, now: Optional[float] = None) -> Scenario:
    """Load and validate a scenario (see load_scenario for the sources)."""
    data, base_dir = load_scenario(source)
    return parse_scenario(data, base_dir, now)


def parse_scenario(data: dict[str, Any], base_dir: str, now: Optional[float] = None) -> Scenario:
    """Validate a scenario dict; relative certificate files are read from base_dir."""
    now = time.time() if now is None else now
    _check_keys(data, _TOP_KEYS, 'scenario')
    scenario = Scenario(settings=_load_settings(data.get('settings')), loaded_at=now)
    for index, raw in enumerate(_list(data.get('tenants'), 'tenants')):
        _load_tenant(scenario, raw, 'tenants[%d]' % index, base_dir)
    _load_mi(scenario, data.get('managed_identity'))
    for index, raw in enumerate(_list(data.get('jobs'), 'jobs')):
        _load_job(scenario, raw, 'jobs[%d]' % index, now)
    scenario.faults = _list(data.get('faults'), 'faults')
    return scenario


# ----- generated tasks -------------------------------------------------------------------------

def generated_task_ids(job_id: str, count: int, seed: Any = 0) -> list[str]:
    """The ids ``generate_tasks: {count, seed}`` gives a job's generated tasks, in order."""
    prefix = '%s:%s:' % (job_id.lower(), seed)
    return [str(uuid.uuid5(_GENERATED_NAMESPACE, prefix + str(index))) for index in range(count)]


def generated_tasks(job_id: str, count: int, seed: Any = 0, mix: Optional[dict[str, float]] = None) -> list[tuple[str, str]]:
    """(task id, state name) of each generated task, in order: exactly the mix's shares (largest remainder), shuffled by the seed."""
    mix = _check_mix(DEFAULT_MIX if mix is None else mix, 'mix')
    total = float(sum(mix.values()))
    shares = [(name, count * weight / total) for name, weight in mix.items()]
    counts = {name: int(share) for name, share in shares}
    # Hand the remaining tasks to the largest fractions; ties go to the state named first.
    leftovers = sorted(range(len(shares)), key=lambda i: (-(shares[i][1] - int(shares[i][1])), i))
    for index in leftovers[:count - sum(counts.values())]:
        counts[shares[index][0]] += 1
    states = [name for name, _share in shares for _unused in range(counts[name])]
    random.Random('%s:%s' % (job_id.lower(), seed)).shuffle(states)
    return list(zip(generated_task_ids(job_id, count, seed), states))


def _check_mix(mix: Any, where: str) -> dict[str, float]:
    if not isinstance(mix, dict) or not mix:
        raise ScenarioError('%s: a mapping of state to weight' % where)
    for name, weight in mix.items():
        if name not in GENERATED_STATES:
            raise ScenarioError('%s: unknown state %r (known: %s)' % (where, name, ', '.join(GENERATED_STATES)))
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise ScenarioError('%s.%s: a weight >= 0' % (where, name))
    if sum(mix.values()) <= 0:
        raise ScenarioError('%s: the weights must not all be 0' % where)
    return dict(mix)


def _generate_tasks(raw: Any, job_id: str, where: str, now: float) -> list[Task]:
    _check_keys(raw, _GENERATE_KEYS, where)
    count = raw.get('count')
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_GENERATED_TASKS:
        raise ScenarioError('%s.count: an integer from 0 to %d' % (where, MAX_GENERATED_TASKS))
    seed = raw.get('seed', 0)
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise ScenarioError('%s.seed: an integer or a string' % where)
    mix = _check_mix(raw['mix'], where + '.mix') if raw.get('mix') is not None else None
    tasks = []
    for task_id, state in generated_tasks(job_id, count, seed, mix):
        workloads = [{'service': service, 'status': status, 'message': '', 'errors': []} for service, status in GENERATED_STATES[state]]
        updated = now - CANCELLED_AGE_SECONDS if state == 'cancelled' else now
        tasks.append(Task(id=task_id, workloads=workloads, last_updated=updated))
    return tasks


# ----- validation helpers ----------------------------------------------------------------------

def _check_keys(obj: Any, allowed: frozenset, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ScenarioError('%s: must be a mapping' % where)
    unknown = set(obj) - allowed
    if unknown:
        raise ScenarioError('%s: unknown keys %s' % (where, ', '.join(sorted(str(k) for k in unknown))))
    return obj


def _guid(value: Any, where: str) -> str:
    if not is_guid(value):
        raise ScenarioError('%s: %r is not a GUID' % (where, value))
    return str(value)


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScenarioError('%s: must be a list' % where)
    return value


def _str_list(value: Any, where: str) -> list[str]:
    items = _list(value, where)
    for item in items:
        if not isinstance(item, str):
            raise ScenarioError('%s: must be a list of strings' % where)
    return list(items)


def _load_certificates(pem: str) -> list[x509.Certificate]:
    """Every certificate in a PEM text (works with older cryptography releases too)."""
    blocks = re.findall(r'-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----', pem, flags=re.DOTALL)
    if not blocks:
        raise ValueError('no PEM certificate found')
    return [x509.load_pem_x509_certificate(block.encode('ascii')) for block in blocks]


# ----- sections --------------------------------------------------------------------------------

def _load_settings(raw: Any) -> dict[str, Any]:
    settings = dict(DEFAULT_SETTINGS)
    if raw is None:
        return settings
    _check_keys(raw, frozenset(DEFAULT_SETTINGS), 'settings')
    settings.update(raw)
    delay = settings['cancel_delay_seconds']
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0):
        raise ScenarioError('settings.cancel_delay_seconds: a number >= 0, or null for never')
    size = settings['page_size']
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 1000:
        raise ScenarioError('settings.page_size: an integer from 1 to 1000')
    latency = settings['latency_ms']
    if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not 0 <= latency <= 60000:
        raise ScenarioError('settings.latency_ms: a number from 0 to 60000')
    life = settings['token_lifetime_seconds']
    if isinstance(life, bool) or not isinstance(life, int) or life < 1:
        raise ScenarioError('settings.token_lifetime_seconds: an integer >= 1')
    if settings['batch_order'] not in ('as_sent', 'reversed'):
        raise ScenarioError('settings.batch_order: as_sent or reversed')
    versions = settings['api_versions']
    if not isinstance(versions, list) or any(version not in API_VERSIONS for version in versions):
        raise ScenarioError('settings.api_versions: a list of %s' % ' and '.join(API_VERSIONS))
    settings['api_versions'] = list(versions)
    return settings


def _omit(raw: Any, allowed: frozenset, where: str) -> tuple[str, ...]:
    keys = _str_list(raw, where)
    unknown = sorted(set(keys) - allowed)
    if unknown:
        raise ScenarioError('%s: cannot leave out %s (only %s)' % (where, ', '.join(unknown), ', '.join(sorted(allowed))))
    return tuple(keys)


def _load_app(raw: Any, tenant_id: str, where: str, base_dir: str) -> App:
    _check_keys(raw, _APP_KEYS, where)
    client_id = _guid(raw.get('client_id'), where + '.client_id')
    secret = raw.get('secret')
    secrets = [secret] if isinstance(secret, str) else _str_list(secret, where + '.secret')
    certs: list[x509.Certificate] = []
    pem = raw.get('certificate_pem')
    if raw.get('certificate_file'):
        cert_path = os.path.join(base_dir, str(raw['certificate_file']))
        try:
            with open(cert_path, 'r', encoding='utf-8') as handle:
                pem = (pem or '') + '\n' + handle.read()
        except OSError as exc:
            raise ScenarioError('%s.certificate_file: cannot read %s: %s' % (where, cert_path, exc.strerror)) from exc
    if pem:
        try:
            certs = _load_certificates(pem)
        except ValueError as exc:
            raise ScenarioError('%s: the certificate is not valid PEM: %s' % (where, exc)) from exc
    federated = []
    for index, fed in enumerate(_list(raw.get('federated_credentials'), where + '.federated_credentials')):
        fed_where = '%s.federated_credentials[%d]' % (where, index)
        _check_keys(fed, _FED_KEYS, fed_where)
        if not isinstance(fed.get('issuer'), str) or not isinstance(fed.get('subject'), str):
            raise ScenarioError('%s: issuer and subject are required strings' % fed_where)
        audiences = _str_list(fed.get('audiences'), fed_where + '.audiences') or ['api://AzureADTokenExchange']
        federated.append({'issuer': fed['issuer'], 'subject': fed['subject'], 'audiences': audiences})
    roles = _str_list(raw.get('roles'), where + '.roles')
    return App(client_id=client_id, tenant_id=tenant_id, roles=roles, secrets=secrets, certificates=certs, federated=federated)


def _load_tenant(scenario: Scenario, raw: Any, where: str, base_dir: str) -> None:
    _check_keys(raw, _TENANT_KEYS, where)
    tenant_id = _guid(raw.get('id'), where + '.id')
    if tenant_id.lower() in scenario.tenants:
        raise ScenarioError('%s: duplicate tenant %s' % (where, tenant_id))
    domains = _str_list(raw.get('domains'), where + '.domains')
    tenant = Tenant(id=tenant_id, domains=domains, apps={})
    for index, app_raw in enumerate(_list(raw.get('apps'), where + '.apps')):
        app = _load_app(app_raw, tenant_id, '%s.apps[%d]' % (where, index), base_dir)
        tenant.apps[app.client_id.lower()] = app
    scenario.tenants[tenant_id.lower()] = tenant
    for domain in domains:
        scenario.domains[domain.lower()] = tenant_id.lower()


def _load_mi(scenario: Scenario, raw: Any) -> None:
    if raw is None:
        return
    _check_keys(raw, _MI_KEYS, 'managed_identity')
    header = raw.get('identity_header', DEFAULT_IDENTITY_HEADER)
    if not isinstance(header, str) or not header:
        raise ScenarioError('managed_identity.identity_header: a non-empty string')
    scenario.identity_header = header
    for index, ident in enumerate(_list(raw.get('identities'), 'managed_identity.identities')):
        where = 'managed_identity.identities[%d]' % index
        _check_keys(ident, _IDENTITY_KEYS, where)
        tenant_id = _guid(ident.get('tenant_id', scenario.first_tenant_id()), where + '.tenant_id')
        client_id = ident.get('client_id', 'system')
        system = client_id == 'system'
        if system:
            # A system-assigned identity has no configurable client id; derive a stable one from its tenant.
            client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, 'msgraph-emulator:system-identity:' + tenant_id.lower()))
        else:
            client_id = _guid(client_id, where + '.client_id')
        object_id = ident.get('object_id')
        if object_id is not None:
            object_id = _guid(object_id, where + '.object_id')
        resource_id = ident.get('resource_id')
        if resource_id is not None and not isinstance(resource_id, str):
            raise ScenarioError('%s.resource_id: a string' % where)
        scenario.identities.append(Identity(client_id=client_id, tenant_id=tenant_id, roles=_str_list(ident.get('roles'), where + '.roles'),
                                            system=system, object_id=object_id, resource_id=resource_id))


def _load_job(scenario: Scenario, raw: Any, where: str, now: float) -> None:
    _check_keys(raw, _JOB_KEYS, where)
    job_id = _guid(raw.get('id'), where + '.id')
    if job_id.lower() in scenario.jobs:
        raise ScenarioError('%s: duplicate job %s' % (where, job_id))
    target = raw.get('targetTenantId', scenario.first_tenant_id())
    if target is None:
        raise ScenarioError('%s.targetTenantId: required when the scenario has no tenants' % where)
    target = _guid(target, where + '.targetTenantId')
    source = _guid(raw.get('sourceTenantId', DEFAULT_SOURCE_TENANT), where + '.sourceTenantId')
    try:
        complete_after = parse_datetime(raw.get('completeAfterDateTime', '2099-01-01T00:00:00Z'), now)
        created = parse_datetime(raw.get('createdDateTime', now), now)
        last_updated = parse_datetime(raw.get('lastUpdatedDateTime', now), now)
    except ValueError as exc:
        raise ScenarioError('%s: %s' % (where, exc)) from exc
    task_list = [_load_task(task_raw, '%s.tasks[%d]' % (where, index), now) for index, task_raw in enumerate(_list(raw.get('tasks'), where + '.tasks'))]
    named = len(task_list)
    if raw.get('generate_tasks') is not None:
        task_list.extend(_generate_tasks(raw['generate_tasks'], job_id, where + '.generate_tasks', now))
    tasks: dict[str, Task] = {}
    services: list[str] = []
    for index, task in enumerate(task_list):
        if task.id.lower() in tasks:
            place = '.tasks[%d]' % index if index < named else '.generate_tasks'
            raise ScenarioError('%s%s: duplicate task %s' % (where, place, task.id))
        tasks[task.id.lower()] = task
        for workload in task.workloads:
            if workload['service'] not in services:
                services.append(workload['service'])
    status = raw.get('status', 'inProgress')
    if status is None:
        status = ''  # shown as null
    elif not isinstance(status, str) or not status:
        raise ScenarioError('%s.status: a string, or null' % where)
    fields = {
        'displayName': str(raw.get('displayName', 'Migration job %d' % (len(scenario.jobs) + 1))),
        'jobType': str(raw.get('jobType', 'migrate')),
        'sourceTenantId': source,
        'targetTenantId': target,
        'message': str(raw.get('message', '')),
        'createdBy': str(raw.get('createdBy', 'admin@contoso.onmicrosoft.com')),
        'exchangeSettings': raw.get('exchangeSettings') or {},
        'workloads': _str_list(raw.get('workloads'), where + '.workloads') if raw.get('workloads') is not None else services,
        'resourceType': str(raw.get('resourceType', 'Users')),
    }
    scenario.jobs[job_id.lower()] = Job(id=job_id, fields=fields, status=status, complete_after=complete_after, created=created,
                                        last_updated=last_updated, tasks=tasks, omit=_omit(raw.get('omit'), _JOB_OMITTABLE, where + '.omit'))


def _load_task(raw: Any, where: str, now: float) -> Task:
    if isinstance(raw, str):
        raw = {'id': raw}
    _check_keys(raw, _TASK_KEYS, where)
    task_id = _guid(raw.get('id'), where + '.id')
    workloads_raw = raw.get('workloads')
    workloads: list[dict[str, Any]] = []
    if workloads_raw is None and 'currentStatus' in raw:
        pass  # a raw currentStatus alone: no workloads of its own, so only the job can block a cancel
    elif workloads_raw is None:
        workloads = [{'service': s, 'status': st, 'message': '', 'errors': []} for s, st in DEFAULT_WORKLOADS]
    elif isinstance(workloads_raw, dict):
        for service, status in workloads_raw.items():
            if not isinstance(status, str) or not status:
                raise ScenarioError('%s.workloads.%s: a status string' % (where, service))
            workloads.append({'service': str(service), 'status': status, 'message': '', 'errors': []})
    elif isinstance(workloads_raw, list):
        for index, item in enumerate(workloads_raw):
            wl_where = '%s.workloads[%d]' % (where, index)
            _check_keys(item, _WORKLOAD_KEYS, wl_where)
            if not isinstance(item.get('service'), str) or not isinstance(item.get('status'), str):
                raise ScenarioError('%s: service and status are required strings' % wl_where)
            workloads.append({'service': item['service'], 'status': item['status'], 'message': str(item.get('message', '')),
                              'errors': _list(item.get('errors'), wl_where + '.errors')})
    else:
        raise ScenarioError('%s.workloads: a mapping of service to status, or a list' % where)
    try:
        last_updated = parse_datetime(raw.get('lastUpdatedDateTime', now), now)
    except ValueError as exc:
        raise ScenarioError('%s: %s' % (where, exc)) from exc
    return Task(id=task_id, workloads=workloads, last_updated=last_updated, task_type=str(raw.get('taskType', 'Users')),
                raw_current_status=copy.deepcopy(raw['currentStatus']) if 'currentStatus' in raw else FROM_WORKLOADS,
                omit=_omit(raw.get('omit'), _TASK_OMITTABLE, where + '.omit'))
