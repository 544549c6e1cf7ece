# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fakes shared by the unit tests: a recording Transport, canned replies, a fake
credential, a fake Entra ID and a fake Graph that route requests by method and path."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.argspec import graph_argument_spec
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._core.settings import GraphSettings
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import GraphClient
from ansible_collections.msgraph.migrations.plugins.module_utils._http.transport import HttpReply

JOB = 'add14989-2b21-4001-81bd-a18b0bac1dea'
TASK = '6a88de8d-7027-44c1-8674-03f826aa1704'
TENANT = 'contoso.onmicrosoft.com'
CLIENT_ID = '11111111-2222-3333-4444-555555555555'
GRAPH = 'https://graph.example'
LOGIN = 'https://login.example'

_NO_BODY = object()


def module_params(**overrides: Any) -> dict[str, Any]:
    """Module params as AnsibleModule would pass them: every shared option at its default."""
    values = {name: spec.get('default') for name, spec in graph_argument_spec().items()}
    values.update(overrides)
    return values


def make_settings(**overrides: Any) -> GraphSettings:
    """Settings as from_params would build them, without options or environment."""
    values: dict[str, Any] = dict(graph_endpoint=GRAPH, authority_host=LOGIN, api_version='v1.0', verify=True, timeout=5.0,
                                  max_retries=3, auth_method='client_secret', tenant_id=TENANT, client_id=CLIENT_ID,
                                  client_secret='client-secret-value-1234')
    values.update(overrides)
    return GraphSettings(**values)


def reply(status: int, body: Any = _NO_BODY, headers: Optional[dict[str, str]] = None, raw: Optional[bytes] = None,
          url: str = GRAPH + '/') -> HttpReply:
    """An HttpReply: ``body`` as JSON (``raw`` bytes instead when given), with a request-id."""
    all_headers = CaseInsensitiveDict({'request-id': 'rid-%d' % status})
    if raw is None and body is not _NO_BODY:
        raw = json.dumps(body).encode('utf-8')
        all_headers['Content-Type'] = 'application/json'
    all_headers.update(headers or {})
    return HttpReply(status, all_headers, raw or b'', url)


@dataclass
class Sent:
    """One request as the transport received it."""

    method: str
    url: str
    headers: dict[str, str]
    data: Any = None
    json_body: Any = None
    params: Any = None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def form(self) -> dict[str, str]:
        if isinstance(self.data, dict):
            return {str(key): value.decode('utf-8') if isinstance(value, bytes) else str(value) for key, value in self.data.items()}
        return {key: values[0] for key, values in parse_qs(self.data or '').items()}


class FakeTransport:
    """Records every request; answers with the next scripted outcome, or from ``handler(sent)``.

    An outcome that is an exception is raised instead of answered.
    """

    def __init__(self, *outcomes: Any, handler: Optional[Callable[[Sent], Any]] = None) -> None:
        self.outcomes = list(outcomes)
        self.handler = handler
        self.sent: list[Sent] = []
        self.closed = False
        self._lock = threading.Lock()

    def request(self, method: str, url: str, *, headers: Optional[dict[str, str]] = None, data: Any = None, json_body: Any = None,
                params: Any = None, deadline: Any = None) -> HttpReply:
        sent = Sent(method, url, dict(headers or {}), data, json_body, params)
        with self._lock:
            self.sent.append(sent)
            if self.handler is None:
                if not self.outcomes:
                    raise AssertionError('unexpected request: %s %s' % (method, url))
                outcome = self.outcomes.pop(0)
        if self.handler is not None:
            outcome = self.handler(sent)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    @property
    def urls(self) -> list[str]:
        return [sent.url for sent in self.sent]

    def close(self) -> None:
        self.closed = True


class FakeCredential:
    """Gives ``token-1``, ``token-2``, ... and records each call's force_refresh."""

    method = 'client_secret'

    def __init__(self, can_refresh: bool = True, error: Optional[BaseException] = None) -> None:
        self.can_refresh = can_refresh
        self.calls: list[bool] = []
        self.error = error

    def get_token(self, force_refresh: bool = False, deadline: Any = None) -> str:
        self.calls.append(force_refresh)
        if self.error is not None:
            raise self.error
        return 'token-%d' % len(self.calls)


@dataclass
class ClientKit:
    client: GraphClient
    transport: FakeTransport
    credential: Any
    warnings: list[str] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)


def make_client(transport: FakeTransport, credential: Any = None, redactor: Optional[Redactor] = None, **settings: Any) -> ClientKit:
    """A real GraphClient over ``transport``, recording its warnings and sleeps (which return at once)."""
    credential = credential or FakeCredential()
    kit = ClientKit(None, transport, credential)  # type: ignore[arg-type]
    kit.client = GraphClient(make_settings(**settings), credential, transport, redactor or Redactor(), kit.warnings.append,
                             sleep=kit.sleeps.append)
    return kit


def discovery_document(authority: str) -> dict[str, Any]:
    """What Entra ID's OIDC discovery answers for ``authority`` (``https://host/tenant``)."""
    return {'token_endpoint': authority + '/oauth2/v2.0/token', 'authorization_endpoint': authority + '/oauth2/v2.0/authorize',
            'issuer': authority + '/v2.0'}


def token_reply(token: str = 'access-token-1') -> HttpReply:
    return reply(200, {'token_type': 'Bearer', 'expires_in': 3600, 'ext_expires_in': 3600, 'access_token': token})


class EntraService:
    """A fake Entra ID for one authority: answers discovery, and token requests from ``token_replies``
    (``access-token-N`` once they run out)."""

    def __init__(self, authority: str = LOGIN + '/' + TENANT, token_replies: Optional[list[Any]] = None) -> None:
        self.authority = authority
        self.token_replies = list(token_replies or [])
        self.tokens_issued = 0

    def __call__(self, sent: Sent) -> Any:
        if sent.method == 'GET' and sent.url == self.authority + '/v2.0/.well-known/openid-configuration':
            return reply(200, discovery_document(self.authority), url=sent.url)
        if sent.method == 'POST' and sent.url == self.authority + '/oauth2/v2.0/token':
            if self.token_replies:
                return self.token_replies.pop(0)
            self.tokens_issued += 1
            return token_reply('access-token-%d' % self.tokens_issued)
        raise AssertionError('unexpected request to Entra ID: %s %s' % (sent.method, sent.url))


class GraphService:
    """A fake Graph: replies by (method, path below the version root), in order; the last one repeats.

    ``batch`` (when set) answers each ``$batch`` sub-request: ``batch(sub_request, attempt) -> (status, headers, body)``.
    """

    def __init__(self, root: str = GRAPH + '/v1.0') -> None:
        self.root = root
        self.routes: dict[tuple[str, str], list[Any]] = {}
        self.batch: Optional[Callable[[dict[str, Any], int], tuple[int, dict[str, Any], Any]]] = None
        self.envelopes: list[list[dict[str, Any]]] = []
        self.sub_attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def on(self, method: str, path: str, *replies: Any) -> 'GraphService':
        self.routes[(method, path)] = list(replies)
        return self

    def __call__(self, sent: Sent) -> Any:
        if not sent.url.startswith(self.root + '/'):
            raise AssertionError('request outside Graph: %s' % sent.url)
        path = sent.url[len(self.root):]
        if sent.method == 'POST' and path == '/$batch' and self.batch is not None:
            return self._answer_batch(sent)
        replies = self.routes.get((sent.method, path))
        if not replies:
            raise AssertionError('unexpected request: %s %s' % (sent.method, path))
        with self._lock:
            outcome = replies.pop(0) if len(replies) > 1 else replies[0]
        return outcome

    def _answer_batch(self, sent: Sent) -> HttpReply:
        requests = sent.json_body['requests']
        responses = []
        with self._lock:
            self.envelopes.append(requests)
        for sub in requests:
            with self._lock:
                attempt = self.sub_attempts.get(sub['id'], 0)
                self.sub_attempts[sub['id']] = attempt + 1
            answer = self.batch(sub, attempt)  # type: ignore[misc]
            if answer is None:
                continue  # left out of the envelope's reply
            status, headers, body = answer
            responses.append({'id': sub['id'], 'status': status, 'headers': headers, 'body': body})
        return reply(200, {'responses': list(reversed(responses))})


def task(task_id: str = TASK, updated: Optional[str] = None, **workloads: str) -> dict[str, Any]:
    """A crossTenantMigrationTask with ``service=status`` workloads."""
    body: dict[str, Any] = {'id': task_id, 'taskType': 'Users',
                            'currentStatus': [{'service': service, 'status': status, 'message': '', 'errors': []}
                                              for service, status in workloads.items()]}
    if updated is not None:
        body['lastUpdatedDateTime'] = updated
    return body


def job(status: str = 'inProgress', complete_after: str = '2099-01-01T00:00:00Z', **extra: Any) -> dict[str, Any]:
    """A crossTenantMigrationJob."""
    body = {'id': JOB, 'displayName': 'Wave 1', 'status': status, 'completeAfterDateTime': complete_after}
    body.update(extra)
    return body


def graph_error(code: str, message: str) -> dict[str, Any]:
    return {'error': {'code': code, 'message': message, 'innerError': {'request-id': 'inner'}}}


class FakeClock:
    """A monotonic clock that only sleeping moves; records every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds
