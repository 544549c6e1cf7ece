# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The request log: one JSON object per request, kept in memory and appended to a JSONL file."""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any, Optional

MAX_MEMORY_ENTRIES = 200000


class RequestLog:
    """Thread-safe request log. Entries never hold secrets, assertions or tokens (the caller builds them)."""

    def __init__(self, path: Optional[str] = None):
        self.path = path
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_MEMORY_ENTRIES)
        self._handle = open(path, 'a', encoding='utf-8') if path else None  # pylint: disable=consider-using-with

    def reopen(self) -> None:
        """Open the file again after close() (appending)."""
        with self._lock:
            if self._handle is None and self.path:
                self._handle = open(self.path, 'a', encoding='utf-8')  # pylint: disable=consider-using-with

    def write(self, entry: dict[str, Any]) -> None:
        """Append one entry and flush it to the file (tests read the file while the emulator runs)."""
        line = json.dumps(entry, separators=(',', ':'), default=str) + '\n'
        with self._lock:
            self._entries.append(entry)
            if self._handle is not None:
                self._handle.write(line)
                self._handle.flush()

    def entries(self) -> list[dict[str, Any]]:
        """A copy of every entry written since the last truncate."""
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def truncate(self) -> None:
        """Forget every entry and empty the file."""
        with self._lock:
            self._entries.clear()
            if self._handle is not None:
                self._handle.seek(0)
                self._handle.truncate()
                self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
