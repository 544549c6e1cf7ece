# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Exceptions whose text is safe to show a user.

None of them ever carries a secret, a token or a client assertion: they are
built from our own words and from fields known to be safe (status codes, error
codes, host names), and any text a server sent is scrubbed before it gets here.
The module layer turns them into ``fail_json``; ``result`` holds the extra
fields of the failed task's result.
"""

from __future__ import annotations

from typing import Any, Optional

# Longest piece of user input repeated in a message (ids, URLs).
ECHO_LIMIT = 80


def clip(value: Any, limit: int = ECHO_LIMIT) -> str:
    """``value`` as printable text of at most ``limit`` characters, for messages."""
    text = value if isinstance(value, str) else repr(value)
    text = ''.join(ch if ch.isprintable() else '?' for ch in text)
    return text if len(text) <= limit else '%s... (%d characters)' % (text[:limit], len(text))


class GraphMigrationsError(Exception):
    """Base class of every failure the collection reports."""

    def __init__(self, message: str, **result: Any) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


class OptionError(GraphMigrationsError):
    """A module option (or the environment variable behind it) is missing or malformed.

    Raised before any request is sent.
    """

    def __init__(self, option: str, expected: str) -> None:
        super().__init__('Invalid value for option %s: expected %s.' % (option, expected))
        self.option = option


class MissingLibraryError(GraphMigrationsError):
    """A Python library the chosen path needs is not installed."""

    def __init__(self, library: str, purpose: str) -> None:
        super().__init__('The Python library %s is required for %s.' % (library, purpose))
        self.library = library


class TransportError(GraphMigrationsError):
    """A request got no usable reply: TLS, connection, timeout, redirect or an oversized reply.

    ``kind`` says which; ``may_have_reached`` is True when the request may have
    reached the server and been carried out although no usable reply came back.
    """

    TLS = 'tls'
    CONNECT = 'connect'
    TIMEOUT = 'timeout'
    LOST = 'lost'
    REDIRECT = 'redirect'
    TOO_LARGE = 'too_large'

    def __init__(self, kind: str, host: str, detail: str, may_have_reached: bool, status: Optional[int] = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.host = host
        self.detail = detail
        self.may_have_reached = may_have_reached
        self.status = status

    @property
    def retryable(self) -> bool:
        """Connection failures, timeouts and lost replies may be tried again; the rest will not change."""
        return self.kind in (self.CONNECT, self.TIMEOUT, self.LOST)

    def hint(self, option: str) -> str:
        """What to check, for a request to the endpoint ``option`` sets; '' when nothing helps."""
        if self.kind == self.TLS:
            return ('If %s sits behind a private CA (a TLS-inspecting proxy, the emulator), point ca_path at that CA bundle; '
                    'check %s.' % (self.host, option))
        if self.kind == self.CONNECT:
            return 'Check %s, the network and any proxy (HTTPS_PROXY, NO_PROXY).' % option
        if self.kind == self.REDIRECT:
            return 'Check %s and any proxy (HTTPS_PROXY, NO_PROXY).' % option
        return ''


class AuthenticationError(GraphMigrationsError):
    """Entra ID (or the managed identity endpoint) refused to give a token.

    ``code`` is Entra's AADSTS code (``AADSTS7000215``) when it sent one, else its
    OAuth error (``invalid_client``) or None.
    """

    def __init__(self, method: str, host: str, status: Optional[int], code: Optional[str], oauth_error: Optional[str],
                 description: Optional[str]) -> None:
        parts = ['Authentication with %s failed: %s refused the token request' % (method, host)]
        if status:
            parts.append(' with HTTP %d' % status)
        if code or oauth_error:
            parts.append(' (%s)' % ', '.join(item for item in (code, oauth_error) if item))
        if description:
            parts.append(': %s' % description)
        super().__init__(''.join(parts).rstrip('.') + '.', auth_method=method,
                         error=dict(code=code or oauth_error, oauth_error=oauth_error, message=description, host=host, status=status))
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
            text += ': %s' % message.rstrip()
        text = text if text.endswith(('.', '!', '?')) else text + '.'
        if hint:
            text += ' %s' % hint
        if request_id:
            text += ' (request-id: %s)' % request_id
        result.setdefault('status_code', status)
        result.setdefault('request_id', request_id)
        result.setdefault('error', dict(code=code, message=message))
        super().__init__(text, **result)
        self.status = status
        self.code = code
        self.graph_message = message
        self.request_id = request_id
