# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""JSON batching (POST /{v}/$batch): validate the envelope, run each sub-request through the dispatcher, gather the replies."""

from __future__ import annotations

import json
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

from . import graph
from .state import State
from .util import PLAIN_JSON, Request, Response, graph_error, json_bytes, json_response

MAX_BATCH = 20
_METHODS = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
_NOT_PARSED = object()

# The dispatcher's two entry points a batch needs: run a sub-request through fault rules, handler and log;
# and finish and log a reply the batch made itself (a failed dependency, an absolute URL).
Process = Callable[[Request, State], Response]
Record = Callable[[State, Request, Response], None]


def _payload(req: Request) -> Any:
    """The envelope's JSON (None when it is not JSON), parsed once per request."""
    payload = req.memo.get('batch_payload', _NOT_PARSED)
    if payload is _NOT_PARSED:
        try:
            payload = json.loads(req.body.decode('utf-8') or 'null')
        except (ValueError, UnicodeDecodeError):
            payload = None
        req.memo['batch_payload'] = payload
    return payload


def batch_size(req: Request) -> Optional[int]:
    """How many sub-requests the envelope holds (for the request log), or None when it has no 'requests' list."""
    payload = _payload(req)
    subs = payload.get('requests') if isinstance(payload, dict) else None
    return len(subs) if isinstance(subs, list) else None


def _invalid(subs: list[Any]) -> Optional[str]:
    """Why the sub-requests cannot be run, or None."""
    seen: set[str] = set()
    for sub in subs:
        if not isinstance(sub, dict):
            return 'every request must be an object.'
        sub_id = sub.get('id')
        if not isinstance(sub_id, str) or not sub_id:
            return "every request needs a string 'id'."
        if sub_id in seen:
            return "the request id '%s' is used twice." % sub_id[:40]
        if not isinstance(sub.get('method'), str) or sub['method'].upper() not in _METHODS:
            return "request '%s' needs a valid 'method'." % sub_id[:40]
        if not isinstance(sub.get('url'), str) or not sub['url']:
            return "request '%s' needs a 'url'." % sub_id[:40]
        if sub.get('headers') is not None and not isinstance(sub['headers'], dict):
            return "'headers' of request '%s' must be an object." % sub_id[:40]
        depends = sub.get('dependsOn') or []
        if not isinstance(depends, list) or any(dep not in seen for dep in depends):
            return "'dependsOn' of request '%s' must name requests that come before it." % sub_id[:40]
        seen.add(sub_id)
    return None


def handle(state: State, req: Request, process: Process, record: Record) -> Response:  # pylint: disable=too-many-return-statements
    """Answer a $batch envelope (authenticated with the outer Authorization before any sub-request runs)."""
    if req.method != 'POST':
        resp = graph_error(req, 405, 'MethodNotAllowed', "The HTTP method '%s' is not allowed for $batch." % req.method[:10])
        resp.headers['Allow'] = 'POST'
        return resp
    _info, error = graph.authenticate(state, req)
    if error is not None:
        return error
    payload = _payload(req)
    if payload is None and req.body.strip() not in (b'', b'null'):
        return graph_error(req, 400, 'BadRequest', 'Invalid batch payload format: the body is not valid JSON.')
    subs = payload.get('requests') if isinstance(payload, dict) else None
    if not isinstance(subs, list):
        return graph_error(req, 400, 'BadRequest', "Invalid batch payload format: 'requests' must be an array.")
    if not 1 <= len(subs) <= MAX_BATCH:
        return graph_error(req, 400, 'BadRequest', 'A JSON batch must hold between 1 and %d requests; this one holds %d. '
                           'The limit is %d requests per batch.' % (MAX_BATCH, len(subs), MAX_BATCH))
    problem = _invalid(subs)
    if problem is not None:
        return graph_error(req, 400, 'BadRequest', 'Invalid batch payload format: ' + problem)
    statuses: dict[str, int] = {}
    responses: list[dict[str, Any]] = []
    dropped: list[str] = []
    for sub in subs:
        sub_req = sub_request(req, sub)
        if any(not 200 <= statuses.get(dep, 0) < 300 for dep in sub.get('dependsOn') or []):
            resp = graph_error(sub_req, 424, 'FailedDependency', 'The request depends on a request that failed.')
            record(state, sub_req, resp)
        elif sub['url'].lower().startswith(('http://', 'https://')):
            resp = graph_error(sub_req, 400, 'BadRequest', 'Invalid request URL: a batch request url must be relative to the version root.')
            record(state, sub_req, resp)
        else:
            resp = process(sub_req, state)
        statuses[sub['id']] = resp.status
        if resp.drop:
            dropped.append(sub['id'])
        responses.append(sub_response(sub['id'], resp))
        responses.extend(sub_response(sub['id'], extra) for extra in resp.duplicates)
    if state.settings['batch_order'] == 'reversed':
        responses.reverse()
    out = json_response(200, {'responses': responses}, PLAIN_JSON)
    if dropped:
        out.drop = True
        out.fault = 'reply lost: sub-request fault on %s' % ', '.join(dropped)
    return out


def sub_request(outer: Request, sub: dict[str, Any]) -> Request:
    """A sub-request as a Graph request of its own, with the envelope's Authorization, User-Agent and Host."""
    parts = urlsplit(sub['url'])
    path = '/%s/%s' % (outer.api_version, parts.path.lstrip('/'))
    headers = {str(k).lower(): str(v) for k, v in (sub.get('headers') or {}).items()}
    for name in ('authorization', 'user-agent', 'host'):
        if outer.header(name) is not None:
            headers[name] = outer.headers[name]
        else:
            headers.pop(name, None)
    body = sub.get('body')
    if body is None:
        raw = b''
    elif isinstance(body, str):
        raw = body.encode('utf-8')
    else:
        raw = json_bytes(body)
    return Request(method=sub['method'].upper(), path=path, query=parse_qs(parts.query, keep_blank_values=True), headers=headers, body=raw,
                   root=outer.root, kind='graph', api_version=outer.api_version, in_batch=True, batch_request_id=sub['id'],
                   client_request_id=headers.get('client-request-id') or outer.client_request_id, client_address=outer.client_address,
                   http_version=outer.http_version)


def sub_response(sub_id: str, resp: Response) -> dict[str, Any]:
    """One entry of the envelope's 'responses'."""
    headers = {key: value for key, value in resp.headers.items() if key.lower() not in ('request-id', 'client-request-id', 'x-ms-request-id')}
    entry: dict[str, Any] = {'id': sub_id, 'status': resp.status, 'headers': headers}
    if resp.json_body is not None:
        entry['body'] = resp.json_body
    elif resp.body:
        entry['body'] = resp.body.decode('utf-8', 'replace')
    return entry
