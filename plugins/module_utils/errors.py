# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Exceptions whose text is safe to show a user: none of them ever carries a
secret, token or client assertion. Modules turn them into ``fail_json``."""

from __future__ import annotations

from typing import Any, Optional


class GraphMigrationsError(Exception):
    """Base class. ``result`` holds extra fields for the failed task's result."""

    def __init__(self, message: str, **result: Any) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


class OptionError(GraphMigrationsError):
    """A module option is missing or malformed; raised before any request is sent."""

    def __init__(self, option: str, expected: str) -> None:
        super().__init__('Invalid value for option %s: expected %s.' % (option, expected))
        self.option = option


class AuthenticationError(GraphMigrationsError):
    """Getting a token failed. Names the method and Entra's error, never the credential."""

    def __init__(self, method: str, description: str, code: Optional[str] = None) -> None:
        detail = '%s: %s' % (code, description) if code else description
        super().__init__('Authentication with %s failed: %s' % (method, detail),
                         auth_method=method, error=dict(code=code, message=description))
        self.method = method
        self.code = code


class GraphRequestError(GraphMigrationsError):
    """Graph answered with an error status (after any retries)."""

    def __init__(self, summary: str, status: int, code: Optional[str], message: Optional[str],
                 request_id: Optional[str], hint: Optional[str] = None, **result: Any) -> None:
        text = '%s: HTTP %s' % (summary, status)
        if code:
            text += ' %s' % code
        if message:
            text += ': %s' % message
        if hint:
            text += ' %s' % hint
        if request_id:
            text += ' (request-id: %s)' % request_id
        super().__init__(text, status_code=status, request_id=request_id, error=dict(code=code, message=message), **result)
        self.status = status
        self.code = code
        self.graph_message = message
        self.request_id = request_id


class GraphTransportError(GraphMigrationsError):
    """No usable reply after every retry (connection errors, timeouts)."""
