# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``http_client`` msal uses for Entra ID and the managed identity endpoint.

Entra is treated like Graph: the same bounded transport (no redirects, whole-request
timeout, size cap), the same retry rule (429 and 5xx, ``Retry-After``,
``max_retries``, the caller's deadline), the same warnings. Every secret a request
carries (client secret, client assertion, identity header) is registered with the
redactor before it is sent, and the last refusal is kept as safe fields, since msal
itself turns some refusals into exceptions whose text quotes the reply.

msal learns where to post the credential from the OIDC discovery document, so that
document is checked before msal sees it (and before it is cached): a JSON object whose
``authorization_endpoint`` and ``token_endpoint`` are https URLs on the authority's own
scheme, host and port. A captive-portal page or a document naming another host fails
the run, naming what was refused, and is never cached; a bad cached entry is ignored.
Every POST must go to the authority too. The ``issuer`` is not compared: Entra ID's
sovereign clouds name another host there (login.partner.microsoftonline.cn).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, TransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._core.settings import host_of
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import NO_DEADLINE, Deadline, RetryPolicy
from ansible_collections.msgraph.migrations.plugins.module_utils._http.transport import HttpReply, Transport

# Form fields and headers of token requests that carry a credential.
SECRET_FIELDS = frozenset(('client_secret', 'client_assertion', 'assertion', 'password', 'refresh_token'))
SECRET_HEADERS = frozenset(('authorization', 'x-identity-header', 'secret'))
# The fields of a discovery document msal uses: each must be on the authority.
DISCOVERY_ENDPOINTS = ('authorization_endpoint', 'token_endpoint')
_DEFAULT_PORTS = {'https': 443, 'http': 80}


class EndpointRefused(GraphMigrationsError):
    """A discovery reply that is not a usable document, or a request to a host other than the authority: nothing was sent there."""

    def __init__(self, host: str, problem: str) -> None:
        super().__init__('Could not get a token from %s: %s; no credential was sent. Check authority_host and any proxy (HTTPS_PROXY, NO_PROXY).'
                         % (host, problem), error=dict(code=None, message=problem, host=host, status=None))
        self.host = host
        self.problem = problem


def origin(url: Any) -> Optional[tuple[str, str, int]]:
    """(scheme, host, port) of ``url``, lower-case and with the default port filled in; None when it has none."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not host or scheme not in _DEFAULT_PORTS or '@' in parts.netloc:
        return None
    return scheme, host.lower(), port or _DEFAULT_PORTS[scheme]


def _shown(where: tuple[str, str, int]) -> str:
    scheme, host, port = where
    host = '[%s]' % host if ':' in host else host
    return '%s://%s' % (scheme, host) if port == _DEFAULT_PORTS[scheme] else '%s://%s:%d' % (scheme, host, port)


@dataclass(frozen=True)
class Refusal:
    """What Entra ID (or the managed identity endpoint) answered to a refused request, in safe fields."""

    host: str
    status: int
    code: Optional[str]
    oauth_error: Optional[str]
    description: Optional[str]
    # Why the request was not retried further, when it could have been (max_retries, a long Retry-After, the deadline).
    gave_up: str = ''


def _purpose(url: str) -> str:
    path = urlsplit(url).path.lower()
    if path.endswith('/token') and '/oauth2/' in path:
        return 'token request'
    if 'openid-configuration' in path:
        return 'discovery request'
    return 'managed identity token request'


class EntraHttpClient:
    """msal's ``get``/``post``/``close`` on our Transport, with retries and secret registration."""

    def __init__(self, transport: Transport, policy: RetryPolicy, redactor: Redactor, warn: Callable[[str], None],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._transport = transport
        self._policy = policy
        self._redactor = redactor
        self._warn = warn
        self._sleep = sleep
        self.deadline: Deadline = NO_DEADLINE
        self.last_refusal: Optional[Refusal] = None
        # Where OIDC discovery documents are kept between runs (set by the token store), or None.
        self.discovery: Any = None
        # The authority (https://host[:port]) that discovery documents and POSTs must stay on (set by the
        # client credentials methods), or None (managed identity: the endpoint comes from the environment).
        self.authority: Optional[str] = None

    def get(self, url: str, params: Any = None, headers: Optional[Mapping[str, str]] = None, **_ignored: Any) -> HttpReply:
        if _purpose(url) != 'discovery request':
            return self._send('GET', url, params=params, headers=headers)
        discovery = self.discovery if self.discovery is not None and not params else None
        if discovery is not None:
            cached = discovery.get(url)
            # An entry an older version cached without checking it is ignored (and replaced below).
            if cached is not None and self._discovery_problem(url, cached, 'application/json') is None:
                return HttpReply(200, {'Content-Type': 'application/json'}, cached.encode('utf-8'), url)
        reply = self._send('GET', url, params=params, headers=headers)
        if reply.status_code != 200:
            return reply  # msal reports a refusal (kept in last_refusal); 5xx were retried
        problem = self._discovery_problem(url, reply.text, reply.headers.get('Content-Type'))
        if problem is not None:
            raise EndpointRefused(host_of(url), 'the OIDC discovery reply (HTTP 200) is not usable: %s' % problem)
        if discovery is not None:
            discovery.put(url, reply.text)
        return reply

    def post(self, url: str, params: Any = None, data: Any = None, headers: Optional[Mapping[str, str]] = None,
             **_ignored: Any) -> HttpReply:
        authority = origin(self.authority)
        if authority is not None and origin(url) != authority:
            # Checked before the secrets are registered or anything is sent: a credential never leaves for another host.
            raise EndpointRefused(host_of(self.authority or ''), 'the %s would go to %s, not to the authority %s'
                                  % (_purpose(url), self._redactor.server_text(host_of(url), 80), _shown(authority)))
        return self._send('POST', url, params=params, data=data, headers=headers)

    def _discovery_problem(self, url: str, text: str, content_type: Optional[str]) -> Optional[str]:
        """Why ``text`` is not a discovery document msal may use for the authority of ``url`` (None when it is)."""
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            shown = self._redactor.server_text((content_type or 'no content type').split(';')[0], 60)
            return 'the reply was not JSON (%s), so it did not come from Entra ID' % shown
        if not isinstance(document, dict):
            return 'it is not a JSON object'
        authority = origin(self.authority) or origin(url)
        if authority is None or authority[0] != 'https':
            return 'the authority is not an https URL'
        for field in DISCOVERY_ENDPOINTS:
            value = document.get(field)
            where = origin(value)
            if where is None or where[0] != 'https':
                return 'its %s is not a plain https URL' % field
            if where != authority:
                return 'its %s names %s, not the authority %s' % (field, self._redactor.server_text(_shown(where), 80), _shown(authority))
        return None

    def close(self) -> None:
        """The transport belongs to the module run, which closes it."""

    def _register_secrets(self, data: Any, headers: Optional[Mapping[str, str]]) -> None:
        if isinstance(data, Mapping):
            for name, value in data.items():
                if str(name).lower() in SECRET_FIELDS:
                    # msal passes the assertion it signs with a certificate as bytes.
                    self._redactor.add(value.decode('utf-8', 'replace') if isinstance(value, bytes) else value)
        for name, value in (headers or {}).items():
            if str(name).lower() in SECRET_HEADERS:
                self._redactor.add(value)

    def _send(self, method: str, url: str, params: Any = None, data: Any = None, headers: Optional[Mapping[str, str]] = None) -> HttpReply:
        self._register_secrets(data, headers)
        host = host_of(url)
        purpose = _purpose(url)
        attempt = 0
        while True:
            try:
                reply = self._transport.request(method, url, headers=dict(headers or {}), data=data, params=params, deadline=self.deadline)
            except TransportError as exc:
                if not exc.retryable:
                    raise
                decision = self._policy.decide(attempt, self.deadline)
                if not decision.retry:
                    raise
                self._warn('The %s to %s got no reply (%s); retry %d of %d in %.1f s.'
                           % (purpose, host, exc.kind, attempt + 1, self._policy.max_retries, decision.delay))
            else:
                if reply.status_code >= 400:
                    self.last_refusal = self._refusal(host, reply)
                decision = self._policy.decide(attempt, self.deadline, reply.status_code, reply.headers)
                if not decision.retry:
                    if decision.reason and self.last_refusal is not None:
                        self.last_refusal = dataclasses.replace(self.last_refusal, gave_up=decision.reason)
                    return reply
                self._warn('%s answered HTTP %d to the %s; retry %d of %d in %.1f s.'
                           % (host, reply.status_code, purpose, attempt + 1, self._policy.max_retries, decision.delay))
            self._sleep(decision.delay)
            attempt += 1

    def _refusal(self, host: str, reply: HttpReply) -> Refusal:
        code = oauth_error = description = None
        try:
            body = reply.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            if isinstance(body.get('error'), str):  # Entra's OAuth error shape
                oauth_error = self._redactor.server_text(body['error'], 60)
                codes = body.get('error_codes')
                if isinstance(codes, list) and codes and isinstance(codes[0], int) and not isinstance(codes[0], bool):
                    code = 'AADSTS%d' % codes[0]
                description = body.get('error_description')
            elif isinstance(body.get('error'), dict):  # Azure's {"error": {"code", "message"}} (IMDS)
                code = self._redactor.server_text(body['error'].get('code'), 60) or None
                description = body['error'].get('message')
            else:  # App Service managed identity: {"statusCode", "message"}
                description = body.get('message')
        if description is not None:
            description = self._redactor.server_text(description)
        elif body is None and reply.content:
            content_type = (reply.headers.get('Content-Type') or 'no content type').split(';')[0]
            description = 'the reply was not JSON (%s), so it did not come from Entra ID' % self._redactor.server_text(content_type, 60)
        return Refusal(host=host, status=reply.status_code, code=code, oauth_error=oauth_error, description=description or None)
