# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTTP session of a module run, shared by Graph calls and msal.

Every request made here is bounded and goes only where it was sent:

- No redirect is followed: a 3xx fails (Graph and Entra never redirect these
  requests; a proxy or a wrong endpoint does, and a followed 302 turns a POST into
  a GET, a followed 307 re-posts a client secret).
- ``timeout`` bounds the whole request, connection to last byte: a watchdog shuts
  the request's connection down when it runs out, so a reply trickling a byte a
  second ends there. Replies over ``MAX_REPLY_BYTES`` fail, having read no more.
- The session ignores the environment (``trust_env`` off), so ``.netrc`` never
  replaces the bearer token; proxies (``HTTPS_PROXY``, ``NO_PROXY``) are read from
  the environment for each request, and TLS verification is always passed
  explicitly, so ``ca_path`` wins over ``REQUESTS_CA_BUNDLE``.
- No exception text of requests or urllib3 is ever repeated: it may quote the request.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import traceback
from typing import Any, Iterator, Optional, Union

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import TransportError, clip
from ansible_collections.msgraph.migrations.plugins.module_utils._core.settings import COLLECTION_NAME, COLLECTION_VERSION, host_of
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import NO_DEADLINE, Deadline

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.structures import CaseInsensitiveDict
    from requests.utils import get_environ_proxies
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import NewConnectionError
except ImportError:  # reported by the module with missing_required_lib()
    requests = None  # type: ignore[assignment]
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

USER_AGENT = '%s/%s (Ansible collection)' % (COLLECTION_NAME, COLLECTION_VERSION)
# Graph's largest replies here are pages of up to 999 tasks (well under 4 MiB).
MAX_REPLY_BYTES = 16 * 1024 * 1024
_CHUNK_BYTES = 64 * 1024

_current = threading.local()


class _RequestGuard:
    """Bounds one request: when its time is up, shuts down every connection it used."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def attach(self, connection: Any) -> None:
        with self._lock:
            if connection not in self._connections:
                self._connections.append(connection)
            fired = self.fired
        if fired:
            self._shutdown(connection)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            connections = list(self._connections)
        for connection in connections:
            self._shutdown(connection)

    @staticmethod
    def _shutdown(connection: Any) -> None:
        sock = getattr(connection, 'sock', None)
        if sock is not None:
            try:
                # socket.socket's own shutdown: safe while another thread is inside an SSL read.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except (OSError, TypeError):
                pass

    def __enter__(self) -> '_RequestGuard':
        _current.guard = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._timer.cancel()
        _current.guard = None


if REQUESTS_IMPORT_ERROR is None:
    class _GuardedConnectionMixin:
        """Lets the guard of the request in progress (in this thread) see this connection."""

        def connect(self) -> None:
            guard = getattr(_current, 'guard', None)
            if guard is not None:
                guard.attach(self)
            super().connect()  # type: ignore[misc]

        def request(self, *args: Any, **kwargs: Any) -> Any:
            guard = getattr(_current, 'guard', None)
            if guard is not None:
                guard.attach(self)
            return super().request(*args, **kwargs)  # type: ignore[misc]

    class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
        pass

    class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
        pass

    class _GuardedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = _GuardedHTTPConnection

    class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = _GuardedHTTPSConnection

    _GUARDED_POOLS = {'http': _GuardedHTTPConnectionPool, 'https': _GuardedHTTPSConnectionPool}

    class _GuardedAdapter(HTTPAdapter):
        """requests' adapter, with connections the request guard can shut down (proxied ones too)."""

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = dict(_GUARDED_POOLS)

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if hasattr(manager, 'pool_classes_by_scheme'):
                manager.pool_classes_by_scheme = dict(_GUARDED_POOLS)
            return manager


class HttpStatusError(Exception):
    """``raise_for_status()`` on an error reply (msal calls it); carries the status only."""

    def __init__(self, status: int) -> None:
        super().__init__('HTTP %d' % status)
        self.status = status


class HttpReply:
    """A complete, size-checked reply. Quacks like requests' Response where msal needs it."""

    def __init__(self, status_code: int, headers: Any, content: bytes, url: str) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.url = url

    @property
    def text(self) -> str:
        return self.content.decode('utf-8', 'replace')

    def json(self) -> Any:
        return json.loads(self.text)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise HttpStatusError(self.status_code)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps (urllib3 and requests nest their exceptions in reason, args and context)."""
    seen = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        nested = [arg for arg in getattr(current, 'args', ()) if isinstance(arg, BaseException)]
        reason = getattr(current, 'reason', None)
        current = reason if isinstance(reason, BaseException) else (nested[0] if nested else current.__context__)


def ssl_reason(exc: BaseException) -> str:
    """The TLS library's reason for a failed handshake (safe: it never quotes a request)."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return 'certificate verify failed: %s' % (cause.verify_message or cause.reason or 'unknown reason')
        if isinstance(cause, ssl.SSLError):
            return str(cause.reason or cause.library or 'TLS error')
    return 'TLS error'


def _never_connected(exc: BaseException) -> bool:
    """True when the request certainly never reached the server (no connection was made)."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ProxyError)):
        return True
    return any(isinstance(cause, NewConnectionError) for cause in _causes(exc))


class Transport:
    """Bounded requests on one connection pool (sized for the run's concurrency)."""

    def __init__(self, verify: Union[bool, str], timeout: float, pool_size: int = 1) -> None:
        self.verify = verify
        self.timeout = timeout
        self.session = requests.Session()
        # No .netrc, no environment CA bundle behind our back: see the module docstring.
        self.session.trust_env = False
        self.session.headers['User-Agent'] = '%s python-requests/%s' % (USER_AGENT, requests.__version__)
        # Compressed replies could expand past the size cap in one read; Graph's are small anyway.
        self.session.headers['Accept-Encoding'] = 'identity'
        adapter = _GuardedAdapter(pool_connections=2, pool_maxsize=max(1, pool_size), max_retries=0)
        self.session.mount('https://', adapter)
        self.session.mount('http://', adapter)
        if verify is False:
            # The user chose validate_certs=false and is warned once; a warning per request adds nothing.
            requests.packages.urllib3.disable_warnings()

    def request(self, method: str, url: str, *, headers: Optional[dict[str, str]] = None, data: Any = None,
                json_body: Any = None, params: Any = None, deadline: Deadline = NO_DEADLINE) -> HttpReply:
        """Send one request, without retrying; return its complete reply or raise TransportError."""
        host = host_of(url)
        budget = deadline.bound(self.timeout)
        if budget <= 0:
            raise TransportError(TransportError.TIMEOUT, host, 'no time was left before the deadline to send the request',
                                 may_have_reached=False)
        with _RequestGuard(budget) as guard:
            try:
                response = self.session.request(
                    method, url, headers=headers, data=data, json=json_body, params=params,
                    timeout=(budget, budget), verify=self.verify, allow_redirects=False, stream=True,
                    proxies=get_environ_proxies(url))
                try:
                    return self._complete(response, host, url, guard)
                finally:
                    response.close()
            except TransportError:
                raise
            except requests.exceptions.SSLError as exc:
                if guard.fired:
                    raise self._timed_out(host, budget) from None
                raise TransportError(TransportError.TLS, host, 'the TLS connection to %s failed (%s)' % (host, ssl_reason(exc)),
                                     may_have_reached=False) from None
            except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema, UnicodeEncodeError) as exc:
                # Raised before anything is sent (a header value that is not Latin-1 fails while the
                # headers are still buffered); the text may quote a header value.
                raise TransportError(TransportError.CONNECT, host, 'the request to %s could not be sent (%s)' % (host, type(exc).__name__),
                                     may_have_reached=False) from None
            except (requests.exceptions.RequestException, OSError, ValueError) as exc:
                if guard.fired:
                    raise self._timed_out(host, budget) from None
                if _never_connected(exc):
                    raise TransportError(TransportError.CONNECT, host, 'could not connect to %s (%s)' % (host, type(exc).__name__),
                                         may_have_reached=False) from None
                if isinstance(exc, requests.exceptions.Timeout):
                    raise self._timed_out(host, budget) from None
                raise TransportError(TransportError.LOST, host, 'the connection to %s was lost before the reply was complete (%s)'
                                     % (host, type(exc).__name__), may_have_reached=True) from None

    @staticmethod
    def _timed_out(host: str, budget: float) -> TransportError:
        return TransportError(TransportError.TIMEOUT, host, 'no complete reply from %s within %g s' % (host, budget),
                              may_have_reached=True)

    @staticmethod
    def _complete(response: Any, host: str, url: str, guard: _RequestGuard) -> HttpReply:
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get('Location')
            target = clip(host_of(location)) if location else 'nowhere (no Location header)'
            raise TransportError(TransportError.REDIRECT, host,
                                 '%s answered HTTP %d, a redirect to %s, which was not followed: Graph and Entra ID never redirect '
                                 'these requests, so a proxy or a wrong endpoint answered' % (host, status, target),
                                 may_have_reached=False, status=status)
        length = response.headers.get('Content-Length', '')
        if length.strip().isdigit() and int(length) > MAX_REPLY_BYTES:
            raise _too_large(host, status, int(length))
        chunks = []
        received = 0
        for chunk in response.iter_content(_CHUNK_BYTES):
            received += len(chunk)
            if received > MAX_REPLY_BYTES:
                raise _too_large(host, status, None)
            chunks.append(chunk)
            if guard.fired:
                raise ValueError('deadline')  # reported as a timeout by the caller
        return HttpReply(status, CaseInsensitiveDict(response.headers), b''.join(chunks), url)

    def close(self) -> None:
        self.session.close()


def _too_large(host: str, status: int, length: Optional[int]) -> TransportError:
    size = 'of %d bytes' % length if length is not None else 'longer than that'
    return TransportError(TransportError.TOO_LARGE, host,
                          '%s answered HTTP %d with a reply %s; replies over %d bytes are refused (no Graph or Entra ID reply is '
                          'that large: a proxy or a wrong endpoint answered)' % (host, status, size, MAX_REPLY_BYTES),
                          may_have_reached=True, status=status)
