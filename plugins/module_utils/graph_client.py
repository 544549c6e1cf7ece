# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Graph HTTP client: bearer tokens, retries, and Graph's error shape.

The retry decision (``retry_delay``) works on a (status, headers) pair, so the
same rule serves a plain response and a ``$batch`` sub-response alike.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils.auth import TokenCredential
from ansible_collections.msgraph.migrations.plugins.module_utils.errors import GraphRequestError, GraphTransportError
from ansible_collections.msgraph.migrations.plugins.module_utils.settings import GraphSettings
from ansible_collections.msgraph.migrations.plugins.module_utils.transport import Transport, requests

# Graph may carry out a request and still answer it with one of these (see the
# API notes), so a retry that meets 409 may be meeting its own earlier success.
RETRYABLE_STATUSES = frozenset((429, 503, 504))
RETRY_AFTER_CAP_SECONDS = 120.0
ERROR_SNIPPET_CHARS = 200
BACKOFF_BASE_SECONDS = 1.0


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After value: integer, decimal (Graph sends
    ``2.128``) or HTTP date. None when absent or unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter for retry number ``attempt`` (0-based)."""
    ceiling = min(RETRY_AFTER_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** attempt))
    return ceiling * (0.5 + rng() / 2)


def header(headers: Optional[Mapping[str, Any]], name: str) -> Optional[str]:
    """Case-insensitive header lookup on any mapping (batch sub-responses use plain dicts)."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def retry_delay(status: int, headers: Optional[Mapping[str, Any]], attempt: int,
                rng: Callable[[], float] = random.random) -> Optional[float]:
    """How long to wait before retrying, or None when ``status`` is not worth a retry."""
    if status not in RETRYABLE_STATUSES:
        return None
    retry_after = parse_retry_after(header(headers, 'Retry-After'))
    if retry_after is not None:
        return min(retry_after, RETRY_AFTER_CAP_SECONDS)
    return backoff_delay(attempt, rng)


def parse_graph_error(body: Any) -> tuple[Optional[str], Optional[str]]:
    """(code, message) from Graph's ``{"error": {"code", "message"}}`` shape."""
    if isinstance(body, dict) and isinstance(body.get('error'), dict):
        error = body['error']
        return error.get('code'), error.get('message')
    return None, None


@dataclass
class GraphResponse:
    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    body: Any
    request_id: Optional[str]
    # True when an earlier attempt of this request may have been carried out
    # although its reply never arrived (connection lost after sending, 504).
    earlier_attempt_maybe_applied: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> tuple[Optional[str], Optional[str]]:
        code, message = parse_graph_error(self.body)
        if code is None and message is None and not self.ok and self.body:
            if isinstance(self.body, str):
                # Proxies and gateways answer with HTML pages; a snippet says who answered.
                content_type = self.headers.get('Content-Type', 'no content type').split(';')[0]
                snippet = ' '.join(self.body.split())[:ERROR_SNIPPET_CHARS]
                message = 'The reply was not JSON (%s): %s' % (content_type, snippet)
            else:
                message = "The reply was JSON without Graph's error object: %s" % json.dumps(self.body)[:ERROR_SNIPPET_CHARS]
        return code, message

    def raise_error(self, summary: str, hint: Optional[str] = None, **result: Any) -> None:
        code, message = self.error
        raise GraphRequestError(summary, self.status, code, message, self.request_id, hint=hint, **result)


def _never_sent(exc: Exception) -> bool:
    """True when the request certainly did not reach the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], 'reason', None) if exc.args else None
    return isinstance(reason, requests.packages.urllib3.exceptions.NewConnectionError)


class GraphClient:
    """Sends Graph requests for one module run, retrying what is safe to retry."""

    def __init__(self, settings: GraphSettings, credential: TokenCredential, transport: Transport,
                 warn: Callable[[str], None], register_secret: Callable[[str], None],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self._credential = credential
        self._transport = transport
        self._warn = warn
        self._register_secret = register_secret
        self._sleep = sleep
        self._token: Optional[str] = None

    def _bearer(self, force_refresh: bool = False) -> str:
        if self._token is None or force_refresh:
            self._token = self._credential.get_token(force_refresh=force_refresh)
            # Masks the token in anything Ansible prints, should it ever leak into text.
            self._register_secret(self._token)
        return self._token

    def send(self, method: str, path: str, json_body: Any = None) -> GraphResponse:
        """Send ``method`` to ``{graph}/{api_version}{path}``; return the final response,
        whatever its status. Raises GraphTransportError when no reply ever came."""
        url = self.settings.graph_root + path
        retries_done = 0
        token_refreshed = False
        maybe_applied = False
        token = self._bearer()
        while True:
            headers = {
                'Authorization': 'Bearer ' + token,
                'client-request-id': str(uuid.uuid4()),
                'Accept': 'application/json',
            }
            try:
                reply = self._transport.request(method, url, headers=headers, json=json_body)
            except requests.exceptions.SSLError as exc:
                raise GraphTransportError(
                    'TLS connection to %s failed: %s. If Graph sits behind a private CA (a TLS-inspecting proxy, '
                    'the emulator), point ca_path at that CA bundle.' % (self.settings.graph_endpoint, exc)) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                maybe_applied = maybe_applied or not _never_sent(exc)
                if retries_done >= self.settings.max_retries:
                    raise GraphTransportError(
                        '%s %s: no reply from Graph after %d attempt(s): %s%s'
                        % (method, path, retries_done + 1, exc,
                           '. An attempt may have reached Graph: check the result before sending it again.' if maybe_applied else '')) from None
                delay = backoff_delay(retries_done)
                self._warn('%s %s got no reply (%s); retry %d of %d in %.1f s.'
                           % (method, path, type(exc).__name__, retries_done + 1, self.settings.max_retries, delay))
                self._sleep(delay)
                retries_done += 1
                continue
            except requests.exceptions.RequestException as exc:
                # Other request errors (an invalid header, say) may quote the request,
                # Authorization header included: name the kind of error only.
                raise GraphTransportError('%s %s could not be sent: %s' % (method, path, type(exc).__name__)) from None

            if reply.status_code == 401 and not token_refreshed and self._credential.can_refresh:
                # The token expired or was revoked since it was issued: one fresh token, one retry.
                token_refreshed = True
                token = self._bearer(force_refresh=True)
                self._warn('%s %s was refused with 401; retried once with a new token.' % (method, path))
                continue

            delay = retry_delay(reply.status_code, reply.headers, retries_done)
            if delay is not None and retries_done < self.settings.max_retries:
                maybe_applied = True  # see RETRYABLE_STATUSES
                self._warn('%s %s was answered %d; retry %d of %d in %.1f s.'
                           % (method, path, reply.status_code, retries_done + 1, self.settings.max_retries, delay))
                self._sleep(delay)
                retries_done += 1
                continue
            return self._response(method, path, reply, maybe_applied)

    @staticmethod
    def _response(method: str, path: str, reply: Any, maybe_applied: bool) -> GraphResponse:
        body: Any = None
        if reply.content:
            try:
                body = reply.json()
            except ValueError:
                body = reply.text
        return GraphResponse(
            method=method,
            path=path,
            status=reply.status_code,
            headers=reply.headers,
            body=body,
            request_id=reply.headers.get('request-id'),
            earlier_attempt_maybe_applied=maybe_applied,
        )
