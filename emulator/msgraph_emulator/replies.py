# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a fault rule answers in place of the real handler: errors in each endpoint's shape, redirects, echoes of
the request, trickled replies and oversized bodies. None of these does the real work."""

from __future__ import annotations

import html
from collections.abc import Iterator
import copy
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .faults import FaultRule
from .util import ENTRA_JSON, GRAPH_JSON, PLAIN_JSON, SENSITIVE_KEYS, Request, Response, Stream, entra_error, graph_error, json_response, msi_error

GRAPH_FAULT_DEFAULTS = {
    400: ('BadRequest', 'Bad request.'),
    401: ('InvalidAuthenticationToken', 'Access token validation failure.'),
    403: ('Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
    404: ('ResourceNotFound', 'Resource not found.'),
    409: ('Conflict', 'Cancel is not possible.'),
    429: ('TooManyRequests', 'Too many requests.'),
    500: ('generalException', 'General exception while processing.'),
    502: ('BadGateway', 'Bad gateway.'),
    503: ('serviceNotAvailable', 'The service is temporarily unavailable. Please retry later.'),
    504: ('GatewayTimeout', 'The gateway did not receive a response in time.'),
}
ENTRA_FAULT_DEFAULTS = {
    400: ('invalid_request', 9002313, 'Invalid request. Request is malformed or invalid.'),
    401: ('invalid_client', 7000222, 'The provided client secret keys for the app are expired.'),
    429: ('temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.'),
    500: ('server_error', 90033, 'A transient error has occurred. Please try again.'),
    503: ('temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.'),
    504: ('temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.'),
}
OVERSIZED_CHUNK = 64 * 1024
# The oversized body is valid JSON however long it is: {"value":[ followed by whitespace, then ]}.
_FILLER_HEAD = b'{"value":['
_FILLER_TAIL = b']}'
_SPACES = b' ' * OVERSIZED_CHUNK
_ECHO_PREFIX = 'The request could not be processed. Received request:\n'


def fault_reply(rule: FaultRule, req: Request) -> Response:
    """The reply of a rule that answers in place of the handler (or after it, for status_after_work)."""
    if rule.action == 'echo':
        resp = _echo(rule, req)
    elif rule.action == 'trickle':
        resp = _trickle(rule, req)
    elif rule.action == 'oversized':
        resp = _oversized(rule, req)
    elif 300 <= rule.reply_status <= 399 and rule.body is None:
        resp = _redirect(rule)
    else:
        resp = _status(rule, req, rule.reply_status)
    if rule.retry_after is not None:
        resp.headers['Retry-After'] = rule.retry_after
    if rule.location is not None:
        resp.headers['Location'] = rule.location
    resp.headers.update(rule.headers)
    return resp


def _raw_body(rule: FaultRule, status: int) -> Response:
    if isinstance(rule.body, str):
        resp = Response(status=status, body=rule.body.encode('utf-8'), headers={'Content-Type': rule.content_type or 'text/html; charset=utf-8'})
    else:
        resp = json_response(status, rule.body, rule.content_type or PLAIN_JSON)
    resp.error_code = rule.error_code
    return resp


def _status(rule: FaultRule, req: Request, status: int) -> Response:
    """An error in the kind's shape (Graph, Entra or managed identity), or the rule's own body."""
    if rule.body is not None:
        return _raw_body(rule, status)
    if req.kind in ('token', 'oidc'):
        error, number, message = ENTRA_FAULT_DEFAULTS.get(status, ENTRA_FAULT_DEFAULTS[500 if status >= 500 else 400])
        return entra_error(req, status, rule.error_code or error, number, rule.error_message or message)
    if req.kind == 'msi':
        resp = msi_error(status, rule.error_message or 'The managed identity endpoint failed with status %d.' % status)
        resp.error_code = rule.error_code
        return resp
    code, message = GRAPH_FAULT_DEFAULTS.get(status, ('generalException' if status >= 500 else 'BadRequest', 'Injected fault.'))
    return graph_error(req, status, rule.error_code or code, rule.error_message or message)


def _redirect(rule: FaultRule) -> Response:
    """A 3xx with a tiny HTML body, as IIS and most proxies send: never a Graph error."""
    location = rule.location or rule.headers.get('Location') or rule.headers.get('location') or ''
    link = '<a href="%s">here</a>' % html.escape(location) if location else 'elsewhere'
    page = '<html><head><title>Object moved</title></head><body><h2>Object moved to %s.</h2></body></html>' % link
    return Response(status=rule.reply_status, body=page.encode('utf-8'), headers={'Content-Type': rule.content_type or 'text/html; charset=utf-8'},
                    error_code=rule.error_code)


# ----- echo ------------------------------------------------------------------------------------

def echo_text(req: Request, cut_chars: int = 0) -> str:
    """The request as it arrived: request line, every header with its value, a blank line and the raw body.

    With ``cut_chars``, each credential (the Authorization header's, without its scheme word; X-IDENTITY-HEADER;
    a form's secret fields) is quoted with that many characters cut off each end, as a clipping proxy might."""
    target = req.target
    if not target:
        query = urlencode([(key, value) for key, values in req.query.items() for value in values])
        target = req.path + ('?' + query if query else '')
    headers = req.raw_headers if req.raw_headers is not None else list(req.headers.items())
    lines = ['%s %s %s' % (req.method, target, req.http_version)]
    lines.extend('%s: %s' % (name, _cut_header(name, value, cut_chars) if cut_chars else value) for name, value in headers)
    body = req.body.decode('utf-8', 'replace')
    return '\n'.join(lines) + '\n\n' + (_cut_form(body, cut_chars) if cut_chars else body)


def _cut(value: str, chars: int) -> str:
    return value[chars:len(value) - chars] if len(value) > 2 * chars else ''


def _cut_header(name: str, value: str, chars: int) -> str:
    if name.lower() == 'authorization':
        return _cut(value.split(None, 1)[-1] if value.strip() else '', chars)
    return _cut(value, chars) if name.lower() == 'x-identity-header' else value


def _cut_form(body: str, chars: int) -> str:
    """A form body with its secret fields cut; any other body as it is."""
    if '=' not in body or body.lstrip().startswith(('{', '[')):
        return body
    fields = parse_qsl(body, keep_blank_values=True)
    return urlencode([(key, _cut(value, chars) if key.lower() in SENSITIVE_KEYS else value) for key, value in fields])


def _echo(rule: FaultRule, req: Request) -> Response:
    """An error that quotes the whole request back (secrets included), as a buggy endpoint or proxy might."""
    status = rule.reply_status
    quoted = (rule.error_message or _ECHO_PREFIX.rstrip('\n')) + '\n' + echo_text(req, rule.cut_chars)
    content_type = rule.content_type or ''
    if content_type.lower().startswith('text/html'):
        page = ('<html><head><title>%d Error</title></head><body><h1>%d Error</h1><pre>%s</pre></body></html>'
                % (status, status, html.escape(quoted, quote=False)))
        return Response(status=status, body=page.encode('utf-8'), headers={'Content-Type': content_type}, error_code=rule.error_code)
    if req.kind in ('token', 'oidc'):
        error, number, _message = ENTRA_FAULT_DEFAULTS.get(status, ENTRA_FAULT_DEFAULTS[500 if status >= 500 else 400])
        resp = entra_error(req, status, rule.error_code or error, number, quoted)
    elif req.kind == 'msi':
        resp = msi_error(status, quoted)
        resp.error_code = rule.error_code
    else:
        code, _message = GRAPH_FAULT_DEFAULTS.get(status, ('generalException' if status >= 500 else 'BadRequest', ''))
        resp = graph_error(req, status, rule.error_code or code, quoted)
    if content_type:
        resp.headers['Content-Type'] = content_type
    return resp


# ----- rewrite --------------------------------------------------------------------------------

def rewrite_reply(rule: FaultRule, resp: Response) -> Response:
    """The real reply with its JSON changed as ``rule.rewrite`` says (a proxy or a wrong endpoint's reply);
    a reply that is not a 2xx JSON object is left as it is."""
    body = resp.json_body
    if not 200 <= resp.status < 300 or not isinstance(body, dict):
        return resp
    body = copy.deepcopy(body)
    edits = rule.rewrite
    if 'id' in edits:
        body['id'] = edits['id']
    items = body.get('value') if isinstance(body.get('value'), list) else []
    for key in ('drop_item_id', 'repeat_item', 'duplicate_item'):  # copies are appended in this order
        if key in edits and edits[key] < len(items):
            _edit_items(items, key, edits[key])
    if 'next_link' in edits and body.get('@odata.nextLink'):
        body['@odata.nextLink'] = _rewrite_link(str(body['@odata.nextLink']), edits['next_link'])
    resp.json_body = body
    resp.body = json.dumps(body).encode('utf-8')
    return resp


def _edit_items(items: list[Any], key: str, index: int) -> None:
    if key == 'drop_item_id' and isinstance(items[index], dict):
        items[index].pop('id', None)
    elif key == 'repeat_item':
        items.append(copy.deepcopy(items[index]))
    elif key == 'duplicate_item':
        # The same id again, but every workload completed: two entries that disagree.
        twin = copy.deepcopy(items[index])
        for workload in twin.get('currentStatus') or [] if isinstance(twin, dict) else []:
            if isinstance(workload, dict):
                workload['status'] = 'completed'
        items.append(twin)


def _rewrite_link(link: str, how: str) -> str:
    """``relative``: the path and query only; ``upper_scheme``: HTTPS://...; anything else: that text instead."""
    if how == 'relative':
        parts = urlsplit(link)
        return parts.path + ('?' + parts.query if parts.query else '')
    if how == 'upper_scheme' and '://' in link:
        scheme, rest = link.split('://', 1)
        return scheme.upper() + '://' + rest
    return how


# ----- streamed replies ------------------------------------------------------------------------

def _json_content_type(req: Request, status: int) -> str:
    if req.kind in ('token', 'oidc', 'msi'):
        return ENTRA_JSON
    return GRAPH_JSON if status < 400 else PLAIN_JSON


def _trickle(rule: FaultRule, req: Request) -> Response:
    """Headers at once, then bytes_per_second bytes each second for at most `seconds`."""
    status = rule.reply_status
    if rule.body is not None:
        shaped = _raw_body(rule, status)
        body = shaped.body
    else:
        # A plausible JSON reply, padded with whitespace so that it lasts the whole trickle.
        shaped = _status(rule, req, status) if status >= 400 else json_response(status, {'value': []}, _json_content_type(req, status))
        body = shaped.body
        wanted = int(rule.bytes_per_second * rule.seconds)
        if len(body) < wanted and body.endswith(b'}'):
            body = body[:-1] + b' ' * (wanted - len(body)) + b'}'
    step = rule.bytes_per_second
    chunks = (body[start:start + step] for start in range(0, len(body), step))
    headers = dict(shaped.headers)
    headers.setdefault('Content-Type', _json_content_type(req, status))
    return Response(status=status, headers=headers, error_code=shaped.error_code,
                    stream=Stream(chunks=chunks, length=len(body), interval=1.0, max_seconds=rule.seconds))


def filler_chunks(total: int, chunk: int = OVERSIZED_CHUNK) -> Iterator[bytes]:
    """``total`` bytes of JSON filler in pieces of at most ``chunk`` bytes, made on the fly."""
    if total <= len(_FILLER_HEAD) + len(_FILLER_TAIL):
        yield (_FILLER_HEAD + _FILLER_TAIL)[:total]
        return
    middle = total - len(_FILLER_HEAD) - len(_FILLER_TAIL)
    first = min(middle, max(chunk - len(_FILLER_HEAD), 0))
    yield _FILLER_HEAD + _SPACES[:first]
    middle -= first
    while middle > 0:
        size = min(middle, chunk, len(_SPACES))
        yield _SPACES[:size]
        middle -= size
    yield _FILLER_TAIL


def _oversized(rule: FaultRule, req: Request) -> Response:
    """A reply whose body is body_bytes long, with a Content-Length or chunked."""
    status = rule.reply_status
    headers = {'Content-Type': rule.content_type or _json_content_type(req, status)}
    return Response(status=status, headers=headers, error_code=rule.error_code,
                    stream=Stream(chunks=filler_chunks(rule.body_bytes), length=None if rule.chunked else rule.body_bytes))
