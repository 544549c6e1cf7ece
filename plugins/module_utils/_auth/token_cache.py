# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The token cache on disk, shared by every fork and task of a run: one token request per play.

- Tokens live in msal's serializable cache, persisted by msal-extensions' file
  persistence (with its lock for each write). msal caches tokens only: never a
  client secret, a certificate or an assertion.
- One token request per play: getting a token (look in the cache, ask Entra ID,
  write the cache) runs under an exclusive file lock, so 20 forks starting at once
  make one request and the other 19 find its token.
- The OIDC discovery document (public) is kept beside it, so a warm run sends no
  discovery request either.
- The file is created 0600 in a 0700 directory. A directory or file with wider
  permissions, another owner, or a symbolic link is not used (with a warning); a
  corrupt or truncated cache is ignored and rebuilt, never fatal.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from typing import Any, Callable, Iterator, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils._core.settings import GraphSettings
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import NO_DEADLINE, Deadline

try:
    import fcntl
except ImportError:  # not POSIX: no single-flight lock (the cache still works)
    fcntl = None  # type: ignore[assignment]

DISCOVERY_FILE = 'oidc-discovery.json'
# Entra ID's discovery documents change rarely; msal itself keeps them for a day.
DISCOVERY_MAX_AGE_SECONDS = 24 * 3600
# Longest wait for another process that is getting a token.
LOCK_WAIT_SECONDS = 60.0


def _private(path: str, directory: bool) -> Optional[str]:
    """Why ``path`` must not be used (None when it is ours, private, and not a link)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return '%s is a symbolic link' % path
    if directory != stat.S_ISDIR(info.st_mode):
        return '%s is not a %s' % (path, 'directory' if directory else 'regular file')
    if hasattr(os, 'getuid') and info.st_uid != os.getuid():
        return '%s belongs to another user' % path
    if info.st_mode & 0o077:
        return '%s can be read or written by others (mode %03o; it must be %s)' % (path, info.st_mode & 0o777, '0700' if directory else '0600')
    return None


class DiscoveryCache:
    """The OIDC discovery documents msal asks for, kept on disk as JSON."""

    def __init__(self, path: str) -> None:
        self._path = path

    def _load(self) -> dict[str, Any]:
        try:
            with open(self._path, 'r', encoding='utf-8') as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, url: str) -> Optional[str]:
        entry = self._load().get(url)
        if isinstance(entry, dict) and isinstance(entry.get('body'), str) and isinstance(entry.get('saved'), (int, float)):
            if 0 <= time.time() - entry['saved'] < DISCOVERY_MAX_AGE_SECONDS:
                return entry['body']
        return None

    def put(self, url: str, body: str) -> None:
        data = self._load()
        data[url] = {'body': body, 'saved': time.time()}
        _write_private(self._path, json.dumps(data))


def _write_private(path: str, text: str) -> None:
    """Write ``text`` through a 0600 temporary file and a rename (readers never see half a file)."""
    temporary = '%s.%d.tmp' % (path, os.getpid())
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, 'w', encoding='utf-8') as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class TokenStore:
    """A token cache for msal, the discovery cache, and the lock that makes getting a token single-flight."""

    def __init__(self, cache: Any, discovery: Optional[DiscoveryCache], lock_path: Optional[str]) -> None:
        self.cache = cache
        self.discovery = discovery
        self._lock_path = lock_path

    @contextlib.contextmanager
    def single_flight(self, deadline: Deadline = NO_DEADLINE) -> Iterator[None]:
        """Hold the cache's exclusive lock (waiting at most LOCK_WAIT_SECONDS, and never past ``deadline``)."""
        if self._lock_path is None or fcntl is None:
            yield
            return
        descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            give_up = time.monotonic() + deadline.bound(LOCK_WAIT_SECONDS)
            locked = False
            pause = 0.01
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    locked = True
                    break
                except OSError:
                    if time.monotonic() >= give_up:
                        break  # go on without the lock: at worst, one more token request
                    time.sleep(pause)
                    pause = min(pause * 2, 0.2)
            try:
                yield
            finally:
                if locked:
                    fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)


def _persisted_cache(path: str) -> Any:
    """msal-extensions' PersistedTokenCache on ``path``, tolerant of a corrupt or truncated file."""
    from msal_extensions import FilePersistence, PersistedTokenCache  # pylint: disable=import-outside-toplevel

    class _TolerantPersistedTokenCache(PersistedTokenCache):
        def _reload_if_necessary(self) -> None:
            try:
                super()._reload_if_necessary()
            except ValueError:
                # Corrupt or truncated (another writer died mid-write?): start empty; the next
                # token written replaces the file.
                self.deserialize('{}')
                self._last_sync = time.time()

    return _TolerantPersistedTokenCache(FilePersistence(path))


def open_token_cache(settings: GraphSettings, warn: Callable[[str], None]) -> Optional[TokenStore]:
    """The shared token store for ``token_cache_path``, or None (each run keeps its tokens in memory)."""
    if not settings.token_cache_path or settings.auth_method == 'access_token' or (settings.access_token and settings.auth_method == 'auto'):
        return None
    path = os.path.abspath(settings.token_cache_path)
    directory = os.path.dirname(path)
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700, exist_ok=True)
        problem = _private(directory, True) or _private(path, False)
        if problem:
            warn('The token cache is not used, because %s: tokens are kept in memory for this task only. '
                 'Fix it, point token_cache_path elsewhere, or set token_cache to false.' % problem)
            return None
        cache = _persisted_cache(path)
    except ImportError:
        warn('The token cache needs the Python library msal-extensions; tokens are kept in memory for this task only.')
        return None
    except OSError as exc:
        warn('The token cache %s cannot be used (%s); tokens are kept in memory for this task only.' % (path, exc.strerror))
        return None
    return TokenStore(cache, DiscoveryCache(os.path.join(directory, DISCOVERY_FILE)), path + '.acquire.lock')
