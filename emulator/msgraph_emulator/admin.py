# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The admin API under /_emulator: the emulator's control methods over HTTP, for loopback clients only."""

from __future__ import annotations

import ipaddress
import json
from typing import Any, Optional, Protocol

from .faults import FaultError
from .scenario import ScenarioError
from .util import Response, json_response, new_guid

_ROUTES = frozenset({
    ('reset', 'POST'), ('faults', 'POST'), ('faults', 'GET'), ('faults', 'DELETE'), ('state', 'GET'), ('tokens', 'POST'),
    ('expire-tokens', 'POST'), ('requests', 'GET'), ('requests', 'DELETE'),
})
_ACTIONS = frozenset(name for name, _method in _ROUTES)


class Controls(Protocol):
    """The emulator's public control methods the admin API calls (see Emulator)."""

    def reset(self, scenario: Any = None) -> None:
        """Replace all state with a scenario."""

    def add_fault(self, rule: Any) -> list[str]:
        """Add fault rules; return their descriptions."""

    def clear_faults(self) -> None:
        """Remove every fault rule."""

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules with their counters."""

    def requests(self) -> list[dict[str, Any]]:
        """The request log entries."""

    def clear_requests(self) -> None:
        """Empty the request log."""

    def mint_token(self, tenant_id: str, client_id: str, roles: list[str], expires_in: int = 3600) -> str:
        """A token the Graph endpoints accept."""

    def expire_tokens(self) -> int:
        """Expire every token issued so far."""

    def state(self) -> dict[str, Any]:
        """Settings, jobs with their tasks, fault counters."""

    def default_tenant_id(self) -> Optional[str]:
        """The scenario's first tenant, or None."""


def _loopback(client: str) -> bool:
    try:
        return ipaddress.ip_address(client.split('%', 1)[0]).is_loopback
    except ValueError:
        return False


def handle(controls: Controls, method: str, path: str, body: bytes, client: str) -> Response:  # pylint: disable=too-many-return-statements
    """Answer one admin request (never logged)."""
    if not _loopback(client):
        return json_response(403, {'error': 'the admin API answers loopback clients only'})
    action = path[len('/_emulator'):].strip('/').lower()
    method = method.upper()
    if action not in _ACTIONS:
        return json_response(404, {'error': 'unknown admin endpoint /_emulator/%s' % action[:40]})
    if (action, method) not in _ROUTES:
        return json_response(405, {'error': 'method %s not allowed on /_emulator/%s' % (method[:10], action)})
    try:
        data = json.loads(body.decode('utf-8')) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        return json_response(400, {'error': 'the body is not valid JSON'})
    try:
        return _act(controls, action, method, data)
    except (ScenarioError, FaultError, ValueError, TypeError) as exc:
        return json_response(400, {'error': str(exc)})


def _act(controls: Controls, action: str, method: str, data: Any) -> Response:  # pylint: disable=too-many-return-statements
    if action == 'reset':
        controls.reset(data)
        return json_response(200, {'status': 'reset'})
    if action == 'faults':
        if method == 'GET':
            return json_response(200, controls.faults())
        if method == 'DELETE':
            controls.clear_faults()
            return json_response(200, {'status': 'cleared'})
        if data is None:
            raise ValueError('the body must be a fault rule or a list of rules')
        return json_response(200, {'added': controls.add_fault(data)})
    if action == 'state':
        return json_response(200, controls.state())
    if action == 'tokens':
        data = data or {}
        if not isinstance(data, dict):
            raise ValueError('the body must be an object')
        tenant_id = data.get('tenant_id') or controls.default_tenant_id()
        if not tenant_id:
            raise ValueError('tenant_id is required: the scenario has no tenants')
        expires_in = int(data.get('expires_in', 3600))
        token = controls.mint_token(tenant_id, data.get('client_id') or new_guid(), list(data.get('roles') or []), expires_in)
        return json_response(200, {'access_token': token, 'token_type': 'Bearer', 'expires_in': expires_in})
    if action == 'expire-tokens':
        return json_response(200, {'expired': controls.expire_tokens()})
    if method == 'DELETE':
        controls.clear_requests()
        return json_response(200, {'status': 'cleared'})
    return json_response(200, controls.requests())
