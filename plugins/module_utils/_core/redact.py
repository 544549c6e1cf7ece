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
_PERCENT = re.compile(r'%[0-9A-F]{2}')
# Shortest value worth scrubbing on its own: shorter ones would mangle ordinary words.
MIN_SECRET_CHARS = 4


class Redactor:
    """The secrets of one module run, and the scrubbing of server text."""

    def __init__(self, register: Optional[Callable[[str], None]] = None) -> None:
        self._register = register
        self._variants: set[str] = set()
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
        if self._register is not None:
            for variant in new:
                self._register(variant)

    def scrub(self, text: Any) -> str:
        """``text`` with every registered secret and credential-shaped token masked."""
        if text is None:
            return ''
        text = str(text)
        with self._lock:
            variants = sorted(self._variants, key=len, reverse=True)
        for variant in variants:
            if variant in text:
                text = text.replace(variant, MASK)
        text = _JWT.sub(MASK, text)
        return _BEARER.sub(lambda match: '%s %s' % (match.group(1), MASK), text)

    def server_text(self, text: Any, limit: int = 300) -> str:
        """Scrubbed server text for a message: one line, printable, at most ``limit`` characters."""
        flat = ' '.join(self.scrub(text).split())
        flat = ''.join(ch if ch.isprintable() else '?' for ch in flat)
        return flat if len(flat) <= limit else flat[:limit] + '...'
