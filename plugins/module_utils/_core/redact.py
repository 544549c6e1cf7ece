# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Keeps secrets out of every text a server sends back.

A proxy or a buggy endpoint may quote the request in its error: the client
secret in the form, the signed client assertion, the Authorization header. Each
secret the run holds or sends is registered here, and any server text is
scrubbed of it (as sent, URL-encoded and JSON-escaped) before it reaches a
message. Registered values also go to Ansible's ``no_log_values``, so Ansible
masks them a second time in anything it prints.

A server may also echo a secret cut short (a proxy clipping a log line): every run
of FRAGMENT_CHARS or more characters of a registered value is masked too, and so is
a JWT with its start or end cut off (base64url runs joined by dots).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Callable, Optional
from urllib.parse import quote, quote_plus

MASK = '********'
# Shapes that are credentials whoever sent them: a JWT (assertions, tokens; also cut short
# after its payload) and an Authorization header's value.
_JWT = re.compile(r'eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?')
_BEARER = re.compile(r'(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}')
# A JWT cut at its start: two base64url runs of 16+ characters joined by a dot (and maybe a third).
# Such runs are not ordinary words, ids, dates or paths (a GUID has no dot, a host or path has short labels).
_JWT_TAIL = re.compile(r'(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}(?:\.[A-Za-z0-9_-]*)?')
_PERCENT = re.compile(r'%[0-9A-F]{2}')
# Shortest value worth scrubbing on its own: shorter ones would mangle ordinary words.
MIN_SECRET_CHARS = 4
# A run this long of a registered value is a fragment of it, masked wherever it appears.
FRAGMENT_CHARS = 16
# Fragments are found through the PROBE_CHARS-long pieces of registered values at every PROBE_CHARS-th
# position of a text: any run of FRAGMENT_CHARS (>= 2 * PROBE_CHARS) covers one such position fully.
PROBE_CHARS = 8


class Redactor:
    """The secrets of one module run, and the scrubbing of server text."""

    def __init__(self, register: Optional[Callable[[str], None]] = None) -> None:
        self._register = register
        self._variants: set[str] = set()
        # Each PROBE_CHARS-long piece of a long registered form -> (form, offset) where it occurs.
        self._pieces: dict[str, list[tuple[str, int]]] = {}
        # Forms short enough to need an exact search (longer ones are found by their pieces).
        self._short: list[str] = []
        self._lock = threading.Lock()

    def add(self, secret: Any) -> None:
        """Remember ``secret`` (and its encoded forms) as something never to print."""
        if not isinstance(secret, str):
            return
        value = secret.strip()
        if len(value) < MIN_SECRET_CHARS:
            return
        encoded = {quote_plus(value), quote(value, safe='')}
        # Servers re-encode as they please: lower-case percent-escapes, JSON with \/ and \uXXXX.
        encoded |= {_PERCENT.sub(lambda match: match.group(0).lower(), form) for form in encoded}
        escaped = {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
        escaped |= {form.replace('/', '\\/') for form in escaped}
        escaped.add(''.join('\\u%04x' % ord(ch) if not ch.isalnum() else ch for ch in value))
        variants = {value} | encoded | escaped
        with self._lock:
            new = variants - self._variants
            self._variants |= variants
            for variant in new:
                self._index(variant)
        if self._register is not None:
            for variant in new:
                self._register(variant)

    def _index(self, variant: str) -> None:
        """Make ``variant`` findable: by its pieces when a fragment of it could be long enough, else exactly."""
        if len(variant) <= FRAGMENT_CHARS:
            self._short = sorted(self._short + [variant], key=len, reverse=True)
            return
        for offset in range(len(variant) - PROBE_CHARS + 1):
            self._pieces.setdefault(variant[offset:offset + PROBE_CHARS], []).append((variant, offset))

    def _fragments(self, text: str) -> list[tuple[int, int]]:
        """The (start, end) spans of ``text`` that are runs of FRAGMENT_CHARS or more of a registered form."""
        spans: list[tuple[int, int]] = []
        covered = 0
        for probe in range(0, len(text) - PROBE_CHARS + 1, PROBE_CHARS):
            if probe + PROBE_CHARS <= covered:
                continue
            for form, offset in self._pieces.get(text[probe:probe + PROBE_CHARS], ()):
                start, form_start = probe, offset
                while start > 0 and form_start > 0 and text[start - 1] == form[form_start - 1]:
                    start, form_start = start - 1, form_start - 1
                end, form_end = probe + PROBE_CHARS, offset + PROBE_CHARS
                while end < len(text) and form_end < len(form) and text[end] == form[form_end]:
                    end, form_end = end + 1, form_end + 1
                if end - start >= FRAGMENT_CHARS:
                    spans.append((start, end))
                    covered = max(covered, end)
        return spans

    def scrub(self, text: Any) -> str:
        """``text`` with every registered secret (whole or a long fragment) and credential-shaped token masked."""
        if text is None:
            return ''
        with self._lock:
            return self._scrub(str(text))

    def _scrub(self, text: str) -> str:
        if len(text) < MIN_SECRET_CHARS:
            return text
        if self._pieces and len(text) >= FRAGMENT_CHARS:
            spans = self._fragments(text)
            if spans:
                text = _mask_spans(text, spans)
        for variant in self._short:
            if variant in text:
                text = text.replace(variant, MASK)
        if len(text) >= FRAGMENT_CHARS:
            text = _JWT.sub(MASK, _JWT_TAIL.sub(_mask_if_encoded, text))
        return _BEARER.sub(lambda match: '%s %s' % (match.group(1), MASK), text) if len(text) > 12 else text

    def scrub_data(self, data: Any) -> Any:
        """``data`` (a result: dicts, lists, strings, numbers) with every string in it, keys included, scrubbed."""
        with self._lock:
            return self._scrub_data(data, {})

    def _scrub_data(self, data: Any, done: dict[str, str]) -> Any:
        # ``done``: strings already scrubbed in this result (keys and statuses repeat thousands of times).
        if isinstance(data, str):
            scrubbed = done.get(data)
            if scrubbed is None:
                scrubbed = done[data] = self._scrub(data)
            return scrubbed
        if isinstance(data, dict):
            return {self._scrub_data(key, done): self._scrub_data(value, done) for key, value in data.items()}
        if isinstance(data, (list, tuple)):
            return [self._scrub_data(item, done) for item in data]
        return data

    def server_text(self, text: Any, limit: int = 300) -> str:
        """Scrubbed server text for a message: one line, printable, at most ``limit`` characters."""
        flat = ' '.join(self.scrub(text).split())
        flat = ''.join(ch if ch.isprintable() else '?' for ch in flat)
        return flat if len(flat) <= limit else flat[:limit] + '...'


def _mask_if_encoded(match: re.Match) -> str:
    """MASK for a run that looks encoded (digits, upper and lower case), the run itself for words (a lower-case UPN)."""
    run = match.group(0)
    encoded = any(ch.isdigit() for ch in run) and any(ch.isupper() for ch in run) and any(ch.islower() for ch in run)
    return MASK if encoded else run


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each (possibly overlapping) span replaced by one MASK."""
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if end <= position:
            continue
        if start >= position:
            pieces.append(text[position:start])
            pieces.append(MASK)
        position = end
    pieces.append(text[position:])
    return ''.join(pieces)
