# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Microsoft Graph cross-tenant migration endpoints (v1.0 and beta)."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional
from urllib.parse import quote, unquote

from .model import READ_ROLES, WRITE_ROLES, Job, Task, TokenInfo
from .state import State
from .util import GRAPH_JSON, Request, Response, clip, graph_error, is_guid, json_response

GRAPH_RESOURCE_IDS = frozenset({
    'https://graph.microsoft.com', 'https://graph.microsoft.us', 'https://dod-graph.microsoft.us',
    'https://microsoftgraph.chinacloudapi.cn', 'https://canary.graph.microsoft.com', '00000003-0000-0000-c000-000000000000',
})
_PREFIX = ('solutions', 'migrations', 'crosstenantmigrationjobs')
_WWW_AUTHENTICATE = ('Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
                     'client_id="00000003-0000-0000-c000-000000000000"')


def split_path(path: str) -> list[str]:
    """Percent-decoded path segments, without the leading empty one and a trailing slash."""
    segments = [unquote(seg) for seg in path.split('/')[1:]]
    if len(segments) > 1 and segments[-1] == '':
        segments.pop()
    return segments


def route(segments: list[str]) -> tuple[Optional[str], dict[str, str], tuple[str, ...], str]:
    """Map the segments after the version to (route name, params, allowed methods, offending segment)."""
    names = [seg.lower() for seg in segments]
    for index, expected in enumerate(_PREFIX):
        if index >= len(names) or names[index] != expected:
            return None, {}, (), segments[index] if index < len(segments) else (segments[-1] if segments else '')
    rest, low = segments[3:], names[3:]
    count = len(rest)
    if count == 0:
        return 'jobs', {}, ('GET',), ''
    params = {'job': rest[0]}
    if count == 1:
        return 'job', params, ('GET',), ''
    if count == 2 and low[1] == 'cancel':
        return 'job_cancel', params, ('POST',), ''
    if low[1] == 'users':
        if count == 2:
            return 'tasks', params, ('GET',), ''
        params['task'] = rest[2]
        if count == 3:
            return 'task', params, ('GET',), ''
        if count == 4 and low[3] == 'cancel':
            return 'task_cancel', params, ('POST',), ''
    return None, {}, (), rest[-1]


def audience_ok(info: TokenInfo, root: str) -> bool:
    """Whether a token was issued for Microsoft Graph (any cloud) or for the emulator itself."""
    if info.audience is None:
        return True
    audience = info.audience.rstrip('/').lower()
    if audience in GRAPH_RESOURCE_IDS:
        return True
    port = root.rsplit(':', 1)[-1]
    return audience in {'https://127.0.0.1:%s' % port, 'https://localhost:%s' % port, 'https://[::1]:%s' % port}


def authenticate(state: State, req: Request) -> tuple[Optional[TokenInfo], Optional[Response]]:
    """The token presented in Authorization, or the 401 to answer with."""
    headers = {'WWW-Authenticate': _WWW_AUTHENTICATE}
    header = (req.header('authorization') or '').strip()
    if not header:
        return None, graph_error(req, 401, 'InvalidAuthenticationToken', 'Access token is empty.', headers)
    parts = header.split(None, 1)
    if len(parts) != 2 or parts[0].lower() != 'bearer':
        return None, graph_error(req, 401, 'InvalidAuthenticationToken', 'Invalid token', headers)
    info = state.token_info(parts[1].strip())
    if info is None:
        return None, graph_error(req, 401, 'InvalidAuthenticationToken', 'Invalid token', headers)
    if info.expires_at <= time.time():
        return None, graph_error(req, 401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.', headers)
    if not audience_ok(info, req.root):
        return None, graph_error(req, 401, 'InvalidAuthenticationToken', 'Invalid audience.', headers)
    return info, None


def presented_token(state: State, req: Request) -> Optional[TokenInfo]:
    """The valid token of a request, for the log (no error reporting)."""
    header = (req.header('authorization') or '').strip()
    parts = header.split(None, 1)
    if len(parts) != 2 or parts[0].lower() != 'bearer':
        return None
    info = state.token_info(parts[1].strip())
    if info is None or info.expires_at <= time.time():
        return None
    return info


def _encode_skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(('emu-offset:%d' % offset).encode('ascii')).decode('ascii').rstrip('=')


def _decode_skiptoken(token: str) -> Optional[int]:
    try:
        text = base64.urlsafe_b64decode(token + '=' * (-len(token) % 4)).decode('ascii')
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not text.startswith('emu-offset:'):
        return None
    try:
        offset = int(text[len('emu-offset:'):])
    except ValueError:
        return None
    return offset if offset >= 0 else None


def _page(state: State, req: Request, items: Sequence[Any], view: Callable[[Any], dict[str, Any]], context: str) -> Response:
    """One page of ``items``; only the page's items are turned into their Graph representation."""
    size = int(state.settings['page_size'])
    top_values = req.query.get('$top')
    top: Optional[int] = None
    if top_values:
        try:
            top = int(top_values[0])
        except ValueError:
            top = -1
        if not 1 <= top <= 999:
            return graph_error(req, 400, 'BadRequest', "Invalid page size specified: '%s'. Must be between 1 and 999 inclusive." % clip(top_values[0], 20))
        size = min(size, top)
    offset = 0
    skip_values = req.query.get('$skiptoken')
    if skip_values:
        decoded = _decode_skiptoken(skip_values[0])
        if decoded is None:
            return graph_error(req, 400, 'BadRequest', 'The $skiptoken value is not valid.')
        offset = decoded
    body: dict[str, Any] = {'@odata.context': context, 'value': [view(item) for item in items[offset:offset + size]]}
    if offset + size < len(items):
        query = []
        if top is not None:
            query.append('$top=%d' % top)
        query.append('$skiptoken=%s' % quote(_encode_skiptoken(offset + size), safe=''))
        body['@odata.nextLink'] = '%s%s?%s' % (req.root, quote(req.path, safe="/$().,'-_~"), '&'.join(query))
    return json_response(200, body, GRAPH_JSON)


def handle(state: State, req: Request) -> Response:  # pylint: disable=too-many-return-statements,too-many-branches
    """Answer one Graph request (top-level or $batch sub-request)."""
    segments = split_path(req.path)
    version = segments[0] if segments else ''
    name, params, methods, bad = route(segments[1:])
    if name is None:
        return graph_error(req, 404, 'ResourceNotFound', "Resource not found for the segment '%s'." % clip(bad))
    if version.lower() not in {served.lower() for served in state.settings['api_versions']}:
        # Real Graph's answer on a version whose metadata lacks the API (v1.0 in August 2026): 400, naming the missing segment.
        return graph_error(req, 400, 'BadRequest', "Resource not found for the segment '%s'." % segments[2])
    if req.method.upper() not in methods:
        resp = graph_error(req, 405, 'MethodNotAllowed', "The HTTP method '%s' is not allowed for this resource." % clip(req.method, 10))
        resp.headers['Allow'] = ', '.join(methods)
        return resp
    info, error = authenticate(state, req)
    if error is not None:
        return error
    assert info is not None
    required = READ_ROLES if req.method.upper() == 'GET' else WRITE_ROLES
    held = {role.lower() for role in info.roles}
    if not any(role.lower() in held for role in required):
        return graph_error(req, 403, 'Authorization_RequestDenied',
                           "Missing role permissions on the request. API requires one of '%s'. Roles on the request '%s'." % (
                               ', '.join(required), ', '.join(info.roles)))
    for key, label in (('job', 'crossTenantMigrationJob'), ('task', 'crossTenantMigrationTask')):
        if key in params and not is_guid(params[key]):
            return graph_error(req, 400, 'BadRequest', "Invalid value '%s' for the id of a %s: it must be a GUID." % (clip(params[key]), label))
    root_v = '%s/%s' % (req.root, version)
    with state.lock:
        state.advance()
        if name == 'jobs':
            visible = [job for job in state.jobs.values() if _visible(job, info)]
            return _page(state, req, visible, Job.as_graph, root_v + '/$metadata#solutions/migrations/crossTenantMigrationJobs')
        job = state.jobs.get(params['job'].lower())
        if job is None or not _visible(job, info):
            return graph_error(req, 404, 'ResourceNotFound', "Job '%s' was not found" % params['job'])
        if name == 'job':
            body = {'@odata.context': root_v + '/$metadata#solutions/migrations/crossTenantMigrationJobs/$entity'}
            body.update(job.as_graph())
            return json_response(200, body, GRAPH_JSON)
        if name == 'job_cancel':
            conflict = state.cancel_job(job)
            if conflict is not None:
                return graph_error(req, 409, 'Conflict', conflict)
            return json_response(202, {
                '@odata.context': root_v + '/$metadata#microsoft.graph.crossTenantMigrationCancelResponse',
                'id': job.id, 'displayName': job.fields['displayName'], 'status': 'pendingCancel',
                'message': 'cancellation request has been accepted for the migration job',
            }, GRAPH_JSON)
        if name == 'tasks':
            return _page(state, req, list(job.tasks.values()), Task.as_graph,
                         root_v + "/$metadata#solutions/migrations/crossTenantMigrationJobs('%s')/users" % job.id)
        task = job.tasks.get(params['task'].lower())
        if task is None:
            return graph_error(req, 404, 'ResourceNotFound', "User '%s' is not part of job '%s'" % (params['task'], job.id))
        if name == 'task':
            body = {'@odata.context': root_v + "/$metadata#solutions/migrations/crossTenantMigrationJobs('%s')/users/$entity" % job.id}
            body.update(task.as_graph())
            return json_response(200, body, GRAPH_JSON)
        conflict = state.cancel_task(job, task)
        if conflict is not None:
            return graph_error(req, 409, 'Conflict', conflict)
        return json_response(202, {
            '@odata.context': root_v + '/$metadata#microsoft.graph.crossTenantMigrationCancelResponse',
            'status': 'Accepted',
            'message': 'Cancellation request for user id: %s from batch: %s was accepted.' % (task.id, job.id),
        }, GRAPH_JSON)


def _visible(job: Job, info: TokenInfo) -> bool:
    return job.fields['targetTenantId'].lower() == info.tenant_id.lower()
