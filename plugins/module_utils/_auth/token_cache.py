# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The token cache on disk, shared by every fork and task of a run: one token request per play.

- Tokens live in msal's serializable cache, in a file kept through msal-extensions'
  persisted cache. msal caches tokens only: never a client secret, a certificate or
  an assertion.
- One token request per play: getting a token (look in the cache, ask Entra ID,
  write the cache) runs under an exclusive file lock, so 20 forks starting at once
  make one request and the other 19 find its token. Every write goes through a
  temporary file and a rename, so a reader never sees half a file.
- The OIDC discovery document (public) is kept beside it, so a warm run sends no
  discovery request either. What it holds is checked where it is used (entra_http).
- The file is created 0600 in a 0700 directory. A directory or file with wider
  permissions, another owner, or a symbolic link is not used (with a warning).
- A cache never fails a run: a file that is not JSON, not in msal's shape, or over
  CACHE_FILE_MAX_BYTES is ignored (with a warning) and rebuilt with the next write;
  a lock, read or write that fails warns once, and the task keeps its tokens in
  memory from then on.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
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
# A cache file larger than this is not read (each fork would hold it in memory several times over). A token
# cache holds a few kilobytes per app and cloud, a discovery cache a few per authority.
CACHE_FILE_MAX_BYTES = 4 * 1024 * 1024
# Entra ID's discovery document is about 2 KB: a much larger one is used, but not kept.
DISCOVERY_MAX_CACHED_BYTES = 256 * 1024

# The entry types msal reads, and the fields of an entry that msal turns into strings or numbers.
_CREDENTIAL_TYPES = ('AccessToken', 'RefreshToken', 'IdToken', 'Account', 'AppMetadata')
_KEY_FIELDS = ('home_account_id', 'environment', 'client_id', 'realm', 'target', 'ext_cache_key', 'family_id', 'key_id')
_NUMBER_FIELDS = ('expires_on', 'refresh_on', 'cached_at', 'extended_expires_on')
_JSON_NAMES = {list: 'list', type(None): 'null', bool: 'true or false', int: 'number', float: 'number', str: 'string'}


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


class CacheFileTooLarge(Exception):
    """A cache file over CACHE_FILE_MAX_BYTES: not read."""


def read_capped(path: str, limit: Optional[int] = None) -> str:
    """The text of ``path``, never reading more than ``limit`` (CACHE_FILE_MAX_BYTES) bytes: CacheFileTooLarge above it."""
    limit = CACHE_FILE_MAX_BYTES if limit is None else limit
    with open(path, 'rb') as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            raise CacheFileTooLarge(path)
        data = handle.read(limit + 1)  # the file may grow between fstat and read
    if len(data) > limit:
        raise CacheFileTooLarge(path)
    return data.decode('utf-8')


def _number_like(value: Any) -> bool:
    """What msal's int() accepts here: an integer, or a string of digits."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().lstrip('-').isdigit()


def token_cache_problem(data: Any) -> Optional[str]:
    """Why msal could not use ``data`` as its cache (None when it can): the shape it reads, down to each entry."""
    if not isinstance(data, dict):
        return 'it holds a JSON %s, not an object' % _JSON_NAMES.get(type(data), type(data).__name__)
    for credential_type in _CREDENTIAL_TYPES:
        entries = data.get(credential_type, {})
        if not isinstance(entries, dict):
            return 'its %s is not an object' % credential_type
        for entry in entries.values():
            if not isinstance(entry, dict):
                return 'an entry of its %s is not an object' % credential_type
            if any(entry.get(name) is not None and not isinstance(entry[name], str) for name in _KEY_FIELDS):
                return 'an entry of its %s has a field that is not a string' % credential_type
            if any(name in entry and not _number_like(entry[name]) for name in _NUMBER_FIELDS):
                return 'an entry of its %s has a time that is not a number' % credential_type
            if credential_type in ('AccessToken', 'RefreshToken') and not isinstance(entry.get('secret'), str):
                return 'an entry of its %s has no token' % credential_type
            if credential_type == 'AccessToken' and ('expires_on' not in entry or not isinstance(entry.get('target', ''), str)):
                return 'an entry of its AccessToken has no expiry or no scope'
    return None


class CacheHealth:
    """Whether the cache files may still be used in this task, and its warnings (each said once).

    The first lock, read or write that fails turns the disk off for the rest of the task: tokens are
    then kept in memory, which costs at most one more token request per task.
    """

    def __init__(self, path: str, warn: Callable[[str], None]) -> None:
        self.path = path
        self.usable = True
        self._warn = warn
        self._said: set[str] = set()

    def say_once(self, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            self._warn(message)

    def failed(self, doing: str, what: str, exc: OSError) -> None:
        """A lock, read or write of ``what`` failed: warn once, then use memory only."""
        if self.usable:
            self.usable = False
            what = 'it' if what == self.path else what
            self.say_once('The token cache %s cannot be used: %s could not be %s (%s); tokens are kept in memory for this task only.'
                          % (self.path, what, doing, exc.strerror or type(exc).__name__))

    def too_large(self, what: str) -> None:
        self.say_once('The cache file %s is larger than %d MiB, so it is not read; it is rebuilt with the next write.'
                      % (what, CACHE_FILE_MAX_BYTES // (1024 * 1024)))


class DiscoveryCache:
    """The OIDC discovery documents msal asks for, kept on disk as JSON (checked by the caller before use)."""

    def __init__(self, path: str, health: Optional[CacheHealth] = None) -> None:
        self._path = path
        self._health = health

    def _load(self) -> dict[str, Any]:
        if self._health is not None and not self._health.usable:
            return {}
        try:
            data = json.loads(read_capped(self._path))
        except CacheFileTooLarge:
            if self._health is not None:
                self._health.too_large(self._path)
            return {}
        except (OSError, ValueError, RecursionError):  # missing, unreadable or damaged: as good as empty
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, url: str) -> Optional[str]:
        entry = self._load().get(url)
        if isinstance(entry, dict) and isinstance(entry.get('body'), str) and isinstance(entry.get('saved'), (int, float)):
            if 0 <= time.time() - entry['saved'] < DISCOVERY_MAX_AGE_SECONDS:
                return entry['body']
        return None

    def put(self, url: str, body: str) -> None:
        if (self._health is not None and not self._health.usable) or len(body) > DISCOVERY_MAX_CACHED_BYTES:
            return
        now = time.time()
        # Entries past their day are dropped, so the file holds only what a run may still use.
        data = {key: entry for key, entry in self._load().items()
                if isinstance(entry, dict) and isinstance(entry.get('saved'), (int, float)) and 0 <= now - entry['saved'] < DISCOVERY_MAX_AGE_SECONDS}
        data[url] = {'body': body, 'saved': now}
        try:
            _write_private(self._path, json.dumps(data))
        except OSError as exc:
            if self._health is None:
                raise
            self._health.failed('written', self._path, exc)


def _write_private(path: str, text: str) -> None:
    """Write ``text`` through a 0600 temporary file and a rename (readers never see half a file)."""
    temporary = '%s.%d.%d.tmp' % (path, os.getpid(), threading.get_ident())
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

    def __init__(self, cache: Any, discovery: Optional[DiscoveryCache], lock_path: Optional[str], health: Optional[CacheHealth] = None) -> None:
        self.cache = cache
        self.discovery = discovery
        self._lock_path = lock_path
        self._health = health

    @contextlib.contextmanager
    def single_flight(self, deadline: Deadline = NO_DEADLINE) -> Iterator[None]:
        """Hold the cache's exclusive lock (waiting at most LOCK_WAIT_SECONDS, and never past ``deadline``)."""
        if self._lock_path is None or fcntl is None or (self._health is not None and not self._health.usable):
            yield
            return
        try:
            descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            if self._health is None:
                raise
            # A directory we cannot create the lock in cannot take the cache either.
            self._health.failed('created', self._lock_path, exc)
            yield
            return
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


def _persisted_cache(path: str, health: CacheHealth) -> Any:
    """msal-extensions' PersistedTokenCache on ``path``: checked on every load, written atomically, never fatal."""
    import msal  # pylint: disable=import-outside-toplevel
    from msal_extensions import FilePersistence, PersistedTokenCache  # pylint: disable=import-outside-toplevel
    from msal_extensions.persistence import PersistenceNotFound  # pylint: disable=import-outside-toplevel

    class _CheckedFilePersistence(FilePersistence):
        def save(self, content: str) -> None:
            _write_private(self.get_location(), content)

        def load(self) -> str:
            try:
                return read_capped(self.get_location())
            except FileNotFoundError:
                raise PersistenceNotFound(location=self.get_location()) from None

    class _CheckedPersistedTokenCache(PersistedTokenCache):
        def _reload_if_necessary(self) -> None:
            if not health.usable:
                return
            try:
                if self._last_sync >= self._persistence.time_last_modified():
                    return
                text = self._persistence.load()
            except PersistenceNotFound:
                return  # no file yet: the first token written creates it
            except CacheFileTooLarge:
                health.too_large(path)
                text = '{}'
            except OSError as exc:
                health.failed('read', path, exc)
                return
            except UnicodeDecodeError:
                text = None  # not text at all
            self._load_checked(text)
            self._last_sync = time.time()

        def _load_checked(self, text: Optional[str]) -> None:
            data: Any = {}
            problem = 'it is not UTF-8 text' if text is None else None
            try:
                if text is not None and text.strip():
                    data = json.loads(text)
                    problem = token_cache_problem(data)
            except (ValueError, RecursionError):
                problem = 'it is not JSON (damaged or truncated?)'
            if problem:
                health.say_once('The token cache %s is not a token cache msal can use (%s); it is ignored and rebuilt with the next token.'
                                % (path, problem))
                data = {}
            with self._lock:
                self._cache = data
                self.has_state_changed = False

        def modify(self, credential_type: Any, old_entry: Any, new_key_value_pairs: Any = None) -> None:
            # Writers are already one at a time under TokenStore.single_flight; msal-extensions' own lock file
            # would fail in a read-only directory and, left behind by a killed process, block every write.
            self._reload_if_necessary()
            msal.SerializableTokenCache.modify(self, credential_type, old_entry, new_key_value_pairs)
            if not health.usable:
                return
            try:
                self._persistence.save(self.serialize())
            except OSError as exc:
                health.failed('written', path, exc)
                return
            self._last_sync = time.time()

    return _CheckedPersistedTokenCache(_CheckedFilePersistence(path))


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
        health = CacheHealth(path, warn)
        cache = _persisted_cache(path, health)
    except ImportError:
        warn('The token cache needs the Python library msal-extensions; tokens are kept in memory for this task only.')
        return None
    except OSError as exc:
        warn('The token cache %s cannot be used (%s); tokens are kept in memory for this task only.' % (path, exc.strerror))
        return None
    return TokenStore(cache, DiscoveryCache(os.path.join(directory, DISCOVERY_FILE), health), path + '.acquire.lock', health)
