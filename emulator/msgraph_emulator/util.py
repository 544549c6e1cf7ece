# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Small shared helpers: GUIDs, timestamps, the request/response records and error bodies."""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

GUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
_NOW_RE = re.compile(r'^now\s*(?:([+-])\s*(\d+(?:\.\d+)?)\s*([smhd]?))?$', re.IGNORECASE)
_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}

GRAPH_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'
PLAIN_JSON = 'application/json'
ENTRA_JSON = 'application/json; charset=utf-8'

# Query-string keys whose values are never written to the request log.
SENSITIVE_KEYS = frozenset({
    'client_secret', 'client_assertion', 'assertion', 'access_token', 'refresh_token', 'id_token',
    'code', 'password', 'secret', 'token', 'sig', 'x-identity-header',
})
_KNOWN_SCHEMES = ('bearer', 'basic', 'pop', 'negotiate', 'digest', 'ntlm')


def is_guid(value: Any) -> bool:
    """True when value is a string in the 8-4-4-4-12 hex GUID form."""
    return isinstance(value, str) and bool(GUID_RE.match(value))


def new_guid() -> str:
    """A fresh random GUID string."""
    return str(uuid.uuid4())


def iso(ts: float, fraction: bool = False) -> str:
    """Epoch seconds as an ISO 8601 UTC string with a Z suffix."""
    dt = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    if fraction:
        return dt.strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    return dt.strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_datetime(value: Any, now: float) -> float:
    """Turn a scenario date (ISO string, YAML datetime, or 'now', 'now+1h', 'now-30s') into epoch seconds."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp()
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        raise ValueError('not a date-time: %r' % (value,))
    text = value.strip()
    match = _NOW_RE.match(text)
    if match:
        sign, amount, unit = match.groups()
        if not sign:
            return now
        delta = float(amount) * _UNITS[unit.lower()]
        return now + delta if sign == '+' else now - delta
    if text.endswith(('Z', 'z')):
        text = text[:-1] + '+00:00'
    # fromisoformat in 3.9/3.10 accepts at most 6 fractional digits; Graph sends 7.
    text = re.sub(r'(\.\d{6})\d+', r'\1', text)
    try:
        dt = datetime.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError('not an ISO 8601 date-time: %r' % (value,)) from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def json_bytes(obj: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(obj, separators=(',', ':'), ensure_ascii=False).encode('utf-8')


def auth_scheme(header: Optional[str]) -> Optional[str]:
    """Only the scheme word of an Authorization header, never its credentials."""
    if header is None:
        return None
    parts = header.strip().split(None, 1)
    if not parts:
        return 'empty'
    word = parts[0]
    if word.lower() in _KNOWN_SCHEMES:
        return word
    return 'other'


def safe_query(query: dict[str, list[str]]) -> dict[str, Any]:
    """A query dict for the log: single values unwrapped, sensitive values masked."""
    out: dict[str, Any] = {}
    for key, values in query.items():
        if key.lower() in SENSITIVE_KEYS:
            out[key] = '***'
        elif len(values) == 1:
            out[key] = values[0]
        else:
            out[key] = list(values)
    return out


def clip(text: str, limit: int = 80) -> str:
    """Shorten user-controlled text before it goes into an error message."""
    text = ''.join(ch if ch.isprintable() else '?' for ch in text)
    return text if len(text) <= limit else text[:limit] + '...'


@dataclass
class Request:  # pylint: disable=too-many-instance-attributes
    """One request as the dispatcher sees it (a top-level request or a $batch sub-request)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    root: str
    kind: str = 'graph'
    api_version: Optional[str] = None
    in_batch: bool = False
    batch_request_id: Optional[str] = None
    request_id: str = field(default_factory=new_guid)
    client_request_id: str = ''
    received: float = field(default_factory=time.time)
    client_address: str = '127.0.0.1'
    # What arrived on the wire, for the echo fault: the request target, the HTTP version and
    # the headers with their original names (None: rebuilt from path, query and headers).
    target: Optional[str] = None
    http_version: str = 'HTTP/1.1'
    raw_headers: Optional[list[tuple[str, str]]] = None
    # Values derived from the request that both the handler and the log need, computed once.
    memo: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> Optional[str]:
        """Case-insensitive header lookup."""
        return self.headers.get(name.lower())


@dataclass
class Stream:
    """A reply body written chunk by chunk, never held in memory as a whole.

    ``length`` is the Content-Length to announce (None: chunked transfer encoding). The server writes a chunk,
    then waits ``interval`` seconds before the next one, for at most ``max_seconds``; it stops early when the
    client goes away or the emulator stops. ``on_end(bytes_sent, client_closed)`` is called once at the end."""

    chunks: Iterator[bytes]
    length: Optional[int]
    interval: float = 0.0
    max_seconds: Optional[float] = None
    on_end: Optional[Callable[[int, bool], None]] = None


@dataclass
class Response:  # pylint: disable=too-many-instance-attributes
    """What the dispatcher answers; `drop` closes the connection without a reply, `stream` replaces `body`."""

    status: int
    body: bytes = b''
    headers: dict[str, str] = field(default_factory=dict)
    error_code: Optional[str] = None
    json_body: Any = None
    drop: bool = False
    fault: Optional[str] = None
    log_extra: dict[str, Any] = field(default_factory=dict)
    stream: Optional[Stream] = None
    # More answers with the same id in a $batch reply (fault action duplicate); a top-level reply ignores them.
    duplicates: list['Response'] = field(default_factory=list)


def json_response(status: int, obj: Any, content_type: str = PLAIN_JSON, error_code: Optional[str] = None) -> Response:
    """A JSON response."""
    return Response(status=status, body=json_bytes(obj), headers={'Content-Type': content_type}, error_code=error_code, json_body=obj)


def graph_error_body(req: Request, code: str, message: str) -> dict[str, Any]:
    """Microsoft Graph's error object."""
    return {
        'error': {
            'code': code,
            'message': message,
            'innerError': {
                'date': iso(time.time()),
                'request-id': req.request_id,
                'client-request-id': req.client_request_id,
            },
        }
    }


def graph_error(req: Request, status: int, code: str, message: str, headers: Optional[dict[str, str]] = None) -> Response:
    """An error in Microsoft Graph's shape."""
    resp = json_response(status, graph_error_body(req, code, message), PLAIN_JSON, error_code=code)
    if headers:
        resp.headers.update(headers)
    return resp


def entra_error_body(req: Request, error: str, code: int, description: str) -> dict[str, Any]:
    """Microsoft Entra ID's token endpoint error object."""
    now = time.time()
    stamp = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%SZ')
    full = 'AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s' % (code, description, req.request_id, req.client_request_id, stamp)
    return {
        'error': error,
        'error_description': full,
        'error_codes': [code],
        'timestamp': stamp,
        'trace_id': req.request_id,
        'correlation_id': req.client_request_id,
        'error_uri': 'https://login.microsoftonline.com/error?code=%d' % code,
    }


def entra_error(req: Request, status: int, error: str, code: int, description: str) -> Response:
    """An error in the Microsoft Entra ID token endpoint's shape."""
    resp = json_response(status, entra_error_body(req, error, code, description), ENTRA_JSON, error_code=error)
    resp.headers.update({'Cache-Control': 'no-store, no-cache', 'Pragma': 'no-cache'})
    return resp


def msi_error(status: int, message: str) -> Response:
    """An error in the App Service managed identity endpoint's shape."""
    return json_response(status, {'statusCode': status, 'message': message}, ENTRA_JSON, error_code=None)
