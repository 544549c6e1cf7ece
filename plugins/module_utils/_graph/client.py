# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Graph client: one request path (bearer token, retries, deadline, throttle
gate), paging along ``@odata.nextLink``, and the ``$batch`` envelope.

Every reply keeps the facts a caller needs to tell what happened: its status,
request-id, whether an earlier attempt may have been carried out although its
reply was lost (``in_doubt``), and when the first attempt was sent.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

from ansible_collections.msgraph.migrations.plugins.module_utils._auth.credentials import Credential
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, TransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._core.settings import GraphSettings
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import (
    NO_DEADLINE,
    NOT_CARRIED_OUT_STATUSES,
    Deadline,
    RetryPolicy,
    header,
    may_have_been_carried_out,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._http.transport import Transport

# Bounds on a paged listing (documented in the info modules): Graph's pages hold 20 items by default and up
# to 999; a job holds at most 2,000 users, so these leave ten times that room (old jobs, other shapes), and no more.
MAX_PAGES = 2000
MAX_LISTED_ITEMS = 20000
MAX_BATCH_REQUESTS = 20


def parse_graph_error(body: Any) -> Optional[tuple[Optional[str], Optional[str]]]:
    """(code, message) from Graph's ``{"error": {"code", "message"}}`` shape, or None when the body has another shape."""
    if isinstance(body, dict) and isinstance(body.get('error'), dict):
        error = body['error']
        code, message = error.get('code'), error.get('message')
        if isinstance(code, str) and (message is None or isinstance(message, str)):
            return code, message
    return None


@dataclass
class GraphReply:
    """A reply from Graph (or whatever answered in its place), with the facts of its attempts."""

    method: str
    path: str
    status: int
    headers: Mapping[str, Any]
    body: Any
    is_json: bool
    request_id: Optional[str]
    attempts: int = 1
    # An attempt got no usable reply (lost, timed out, 5xx other than 503) and may have been carried out.
    in_doubt: bool = False
    # Wall-clock time of the first attempt (for the evidence rule of a cancel in doubt).
    first_sent_at: float = 0.0
    # Why it was not retried further, when it could have been (max_retries, Retry-After, deadline).
    gave_up: str = ''
    # A short, scrubbed description of a body that is not Graph's JSON, for messages.
    body_note: str = ''
    # The API version the request went to (v1.0 or beta), for the hint on a "segment not found" answer.
    api_version: str = ''

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def graph_error(self) -> Optional[tuple[Optional[str], Optional[str]]]:
        """(code, message) when the body is Graph's JSON error shape, else None."""
        return parse_graph_error(self.body) if self.is_json else None

    def error_fields(self) -> dict[str, Any]:
        """``error`` for a result: Graph's code and message, or what the reply was instead."""
        graph_error = self.graph_error
        if graph_error is not None:
            return {'code': graph_error[0], 'message': graph_error[1]}
        return {'code': None, 'message': self.body_note or None}

    def describe(self) -> str:
        """``HTTP 409 Conflict: <message>``, or what the reply was when it was not Graph's error."""
        graph_error = self.graph_error
        if graph_error is not None:
            code, message = graph_error
            return 'HTTP %d %s%s' % (self.status, code, ': %s' % message.rstrip(' .') if message else '')
        return 'HTTP %d%s' % (self.status, ' (%s)' % self.body_note if self.body_note else '')


class GraphTransportError(GraphMigrationsError):
    """No usable reply from Graph after every retry (TLS, connection, timeout, redirect, oversized reply)."""

    def __init__(self, method: str, path: str, cause: TransportError, attempts: int, in_doubt: bool, gave_up: str = '',
                 reached: bool = False) -> None:
        text = '%s %s: %s' % (method, path, cause.detail)
        if attempts > 1:
            text += ', after %d attempts' % attempts
        if gave_up:
            text += ' (%s)' % gave_up
        hint = cause.hint('graph_endpoint')
        text += '.' + (' ' + hint if hint else '')
        super().__init__(text, error=dict(kind=cause.kind, host=cause.host, status=cause.status, code=None))
        self.method = method
        self.path = path
        self.cause = cause
        self.attempts = attempts
        self.in_doubt = in_doubt
        # Some attempt got through to a server (whatever it answered): the request left this machine.
        self.reached = reached


class TokenRefreshError(GraphMigrationsError):
    """Graph refused a request with 401 and no new token could be had: the request reached Graph
    (which did not carry it out). Keeps the token failure's message and fields."""

    def __init__(self, cause: GraphMigrationsError) -> None:
        super().__init__(cause.message, **cause.result)
        self.cause = cause
        self.reached = True


class ThrottleGate:
    """When Graph throttles any request, every sender holds off until the wait is over,
    so concurrency never multiplies the throttling."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self._sleep = sleep
        self._clock = clock
        self._until = 0.0
        self._lock = threading.Lock()

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, self._clock() + seconds)

    def wait(self, deadline: Deadline) -> None:
        with self._lock:
            delay = self._until - self._clock()
        if delay > 0:
            self._sleep(deadline.bound(delay))


class GraphClient:
    """Sends Graph requests for one module run; safe to share between threads."""

    def __init__(self, settings: GraphSettings, credential: Credential, transport: Transport, redactor: Redactor,
                 warn: Callable[[str], None], sleep: Callable[[float], None] = time.sleep,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.policy = RetryPolicy(settings.max_retries)
        self.gate = ThrottleGate(sleep)
        self.redactor = redactor
        self.warn = warn
        self._credential = credential
        self._transport = transport
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._token: Optional[str] = None
        self._token_lock = threading.Lock()
        # Pages of collections read so far in this run, for "how far the listing got" when a deadline stops one.
        self.pages_listed = 0
        origin = urlsplit(settings.graph_endpoint)
        self._origin = (origin.scheme, origin.netloc)

    # ----- tokens ---------------------------------------------------------------------------

    def _bearer(self, deadline: Deadline) -> str:
        with self._token_lock:
            if self._token is None:
                self._token = self._credential.get_token(deadline=deadline)
                # Whatever credential produced it, the token this run sends is never printed (nor a piece of it).
                self.redactor.add(self._token)
            return self._token

    def _refresh(self, stale: str, deadline: Deadline) -> str:
        """A new token, fetched once however many threads found ``stale`` refused."""
        with self._token_lock:
            if self._token == stale:
                self._token = self._credential.get_token(force_refresh=True, deadline=deadline)
                self.redactor.add(self._token)
            return self._token or ''

    # ----- the one request path ------------------------------------------------------------

    def url_for(self, path: str) -> str:
        """The absolute URL of ``path``: our own paths (``/solutions/...``, relative to the version root) are put
        under it; anything else must be a link Graph sent (``@odata.nextLink``) that ``checked_link`` accepts."""
        if path.startswith('/') and not path.startswith('//'):
            return self.settings.graph_root + path
        return self.checked_link(path)

    def checked_link(self, link: Any) -> str:
        """``link`` when it is an absolute https URL under Graph's own version root, as Graph writes its
        ``@odata.nextLink``; anything else (relative, another scheme or host, another version) is refused,
        never glued onto the root: it fails naming the link (scrubbed, clipped)."""
        problem = self._link_problem(link)
        if problem:
            shown = self.redactor.server_text(link if isinstance(link, str) else repr(link), 160)
            raise GraphMigrationsError('Graph sent a link to follow (@odata.nextLink) that is not an absolute URL under %s/ (%s): the link '
                                       "'%s' was refused; it was not followed." % (self.settings.graph_root, problem, shown))
        return link

    def _link_problem(self, link: Any) -> str:
        """Why ``link`` is not a URL under Graph's own root, or '' when it is."""
        if not isinstance(link, str):
            return 'it is not a string'
        if any(ch.isspace() or not ch.isprintable() or ch == '\\' for ch in link):
            return 'it holds spaces, control characters or backslashes'
        scheme, host = self._origin
        if not link.startswith(scheme + '://'):
            # Graph writes its links absolute and in lower case; a relative or HTTPS:// link was rewritten on the way.
            return 'it is relative' if '://' not in link else 'its scheme is not %s as Graph writes it' % scheme
        try:
            parts = urlsplit(link)
        except ValueError:
            return 'it is not a URL'
        if parts.netloc.lower() != host.lower():
            return 'it points to another host'
        if not parts.path.startswith(urlsplit(self.settings.graph_root).path + '/'):
            return 'it is outside API version %s' % self.settings.api_version
        segments = parts.path.split('/')
        if '.' in segments or '..' in segments:
            return 'it holds dot segments'
        return ''

    def request(self, method: str, path: str, *, json_body: Any = None, deadline: Deadline = NO_DEADLINE,
                retry: bool = True, quiet: bool = False) -> GraphReply:
        """Send ``method`` to ``path``; return the final reply, whatever its status.

        Retries (unless ``retry`` is false) what the retry rule allows, within ``deadline``.
        Raises GraphTransportError when no usable reply came at all.
        """
        url = self.url_for(path)
        shown = urlsplit(url).path if url != self.settings.graph_root + path else path
        attempt = 0
        in_doubt = False
        reached = False
        refreshed = False
        first_sent_at = 0.0
        while True:
            self.gate.wait(deadline)
            token = self._bearer(deadline)
            headers = {'Authorization': 'Bearer ' + token, 'client-request-id': str(uuid.uuid4()), 'Accept': 'application/json'}
            if not first_sent_at:
                first_sent_at = self._wall_clock()
            try:
                raw = self._transport.request(method, url, headers=headers, json_body=json_body, deadline=deadline)
            except TransportError as exc:
                in_doubt = in_doubt or (exc.may_have_reached and method != 'GET')
                # Something got the request: it may have acted on it, or it answered (a redirect, an oversized reply).
                reached = reached or exc.may_have_reached or exc.kind in (TransportError.REDIRECT, TransportError.TOO_LARGE)
                decision = self.policy.decide(attempt, deadline) if retry and exc.retryable else None
                if decision is None or not decision.retry:
                    raise GraphTransportError(method, shown, exc, attempt + 1, in_doubt, decision.reason if decision else '',
                                              reached=reached) from None
                if not quiet:
                    self.warn('%s %s got no usable reply (%s); retry %d of %d in %.1f s.'
                              % (method, shown, exc.kind, attempt + 1, self.policy.max_retries, decision.delay))
                self._sleep(decision.delay)
                attempt += 1
                continue

            reached = True
            if raw.status_code == 401 and not refreshed and self._credential.can_refresh:
                # The token expired or was revoked since it was issued: one fresh token, one more try.
                refreshed = True
                try:
                    self._refresh(token, deadline)
                except GraphMigrationsError as exc:
                    raise TokenRefreshError(exc) from None
                if not quiet:
                    self.warn('%s %s was refused with 401; retried once with a new token.' % (method, shown))
                continue

            decision = self.policy.decide(attempt, deadline, raw.status_code, raw.headers) if retry else None
            if decision is not None and decision.retry:
                in_doubt = in_doubt or (may_have_been_carried_out(raw.status_code) and method != 'GET')
                if raw.status_code in NOT_CARRIED_OUT_STATUSES:
                    self.gate.hold(decision.delay)
                if not quiet:
                    self.warn('%s %s was answered %d; retry %d of %d in %.1f s.'
                              % (method, shown, raw.status_code, attempt + 1, self.policy.max_retries, decision.delay))
                self._sleep(decision.delay)
                attempt += 1
                continue
            reply = self._reply(method, shown, raw)
            reply.attempts = attempt + 1
            reply.in_doubt = in_doubt or (not reply.ok and may_have_been_carried_out(reply.status) and method != 'GET')
            reply.first_sent_at = first_sent_at
            reply.gave_up = decision.reason if decision is not None else ''
            return reply

    def _reply(self, method: str, path: str, raw: Any) -> GraphReply:
        body: Any = None
        is_json = False
        note = ''
        if raw.content.strip():
            try:
                body = json.loads(raw.content.decode('utf-8'))
                is_json = True
            except (ValueError, UnicodeDecodeError):
                # The text, not None: None means no body, which a cancel's 2xx may have (judge_cancel_reply).
                body = raw.content.decode('utf-8', 'replace')
                content_type = (raw.headers.get('Content-Type') or 'no content type').split(';')[0].strip()
                note = 'the reply was not JSON (%s): %s' % (self.redactor.server_text(content_type, 60), self.redactor.server_text(body, 200))
        if is_json and not self._looks_like_graph(body, raw.status_code):
            note = "the reply was JSON but not in Graph's shape: %s" % self.redactor.server_text(json.dumps(body), 200)
        return GraphReply(method=method, path=path, status=raw.status_code, headers=raw.headers, body=body, is_json=is_json,
                          request_id=header(raw.headers, 'request-id'), body_note=note, api_version=self.settings.api_version)

    @staticmethod
    def _looks_like_graph(body: Any, status: int) -> bool:
        if 200 <= status < 300:
            return isinstance(body, dict)
        return parse_graph_error(body) is not None

    # ----- paging --------------------------------------------------------------------------

    def list_all(self, path: str, deadline: Deadline = NO_DEADLINE, keep: Optional[Callable[[Any], Any]] = None,
                 max_items: int = MAX_LISTED_ITEMS) -> tuple[list[Any], GraphReply]:
        """Every item of a collection, following ``@odata.nextLink`` (on Graph's own root only).

        ``keep`` turns each item into what the caller needs as pages arrive (so whole pages are not
        held). Returns the items and the last page's reply: a failed page ends the listing with its
        reply (callers check ``ok``); a 2xx page that is not a collection, a refused link, or more
        than MAX_PAGES pages or ``max_items`` items raise.
        """
        items: list[Any] = []
        seen: set[str] = set()
        next_path = path
        for _page in range(MAX_PAGES):
            reply = self.request('GET', next_path, deadline=deadline)
            if not reply.ok:
                return items, reply
            if not isinstance(reply.body, dict) or not isinstance(reply.body.get('value'), list):
                raise GraphMigrationsError('Listing %s returned something that is not a page of a collection (%s); a proxy or a wrong '
                                           'graph_endpoint may have answered.' % (path, reply.body_note or 'no "value" list'))
            page = reply.body['value']
            if len(items) + len(page) > max_items:
                raise GraphMigrationsError('Listing %s returned more than %d items, the most one listing may hold; the listing was stopped '
                                           'and nothing was judged from it.' % (path, max_items))
            items.extend(page if keep is None else (keep(item) for item in page))
            self.pages_listed += 1
            link = reply.body.get('@odata.nextLink')
            if not link:
                return items, reply
            next_path = self.checked_link(link)
            if next_path in seen:
                raise GraphMigrationsError('Graph sent an @odata.nextLink that is not a new absolute URL while listing %s; '
                                           'the listing was stopped.' % path)
            seen.add(next_path)
        raise GraphMigrationsError('Listing %s took more than %d pages, the most one listing may take; the listing was stopped.'
                                   % (path, MAX_PAGES))
