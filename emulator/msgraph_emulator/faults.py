# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fault rules: which requests a rule applies to, and what it makes the emulator do (see emulator/README.md)."""

from __future__ import annotations

import random
import re
import threading
from typing import Any, Optional

from .util import Request, clip

KINDS = ('graph', 'token', 'msi', 'oidc', 'batch')
ACTIONS = ('drop', 'drop_after_work', 'status_after_work', 'hang', 'expire_tokens', 'trickle', 'oversized', 'echo', 'rewrite', 'rewrite_discovery', 'duplicate')
# What action: rewrite may change in the real reply (see emulator/README.md).
REWRITE_KEYS = frozenset({'next_link', 'id', 'drop_item_id', 'duplicate_item', 'repeat_item'})
MAX_CUT_CHARS = 10000
# Actions that answer in place of the real handler (the work is not done), and the status they answer with by default.
REPLY_ACTIONS = {'trickle': 200, 'oversized': 200, 'echo': 400}
# Actions whose reply is streamed: only top-level requests can stream, so these never match a $batch sub-request.
STREAM_ACTIONS = frozenset({'trickle', 'oversized'})
MAX_HANG_SECONDS = 300.0
MAX_LATENCY_MS = 60000.0
DEFAULT_TRICKLE_SECONDS = 60.0
MAX_BYTES_PER_SECOND = 1024 * 1024
MAX_BODY_BYTES = 8 * 1024 ** 3
_RULE_KEYS = frozenset({
    'name', 'match', 'status', 'retry_after', 'error_code', 'error_message', 'body', 'content_type', 'headers', 'location',
    'action', 'seconds', 'bytes_per_second', 'body_bytes', 'chunked', 'latency_ms', 'times', 'skip', 'every', 'probability', 'seed',
    'cut_chars', 'rewrite', 'discovery',
})
_MATCH_KEYS = frozenset({'method', 'path', 'kind', 'in_batch'})
_HEADER_VALUE_RE = re.compile(r'^[^\x00-\x1f\x7f]*$')


class FaultError(ValueError):
    """A fault rule that cannot be understood."""


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultError('%s must be a number' % what)
    if not low <= value <= high:
        raise FaultError('%s must be between %s and %s' % (what, low, high))
    return float(value)


def _integer(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultError('%s must be an integer from %d to %d' % (what, low, high))
    return value


class FaultRule:  # pylint: disable=too-many-instance-attributes
    """One rule. See emulator/README.md for the format."""

    def __init__(self, spec: dict[str, Any]):
        if not isinstance(spec, dict):
            raise FaultError('a fault rule must be a mapping')
        unknown = set(spec) - _RULE_KEYS
        if unknown:
            raise FaultError('unknown fault rule keys: %s' % ', '.join(sorted(unknown)))
        self.spec = dict(spec)
        self.name = spec.get('name')
        self._parse_match(spec.get('match') or {})
        self._parse_reply(spec)
        self._parse_action(spec)
        self._parse_counters(spec)
        self.seen = 0
        self.applied = 0

    # ----- parsing -------------------------------------------------------------------------

    def _parse_match(self, match: Any) -> None:
        if not isinstance(match, dict):
            raise FaultError('match must be a mapping')
        unknown = set(match) - _MATCH_KEYS
        if unknown:
            raise FaultError('unknown match keys: %s' % ', '.join(sorted(unknown)))
        self.method: Optional[str] = str(match['method']).upper() if match.get('method') is not None else None
        self.path_re: Optional[re.Pattern] = None
        if match.get('path') is not None:
            try:
                self.path_re = re.compile(str(match['path']))
            except re.error as exc:
                raise FaultError('match.path is not a valid regular expression: %s' % exc) from exc
        self.kind = match.get('kind')
        if self.kind is not None and self.kind not in KINDS:
            raise FaultError('match.kind must be one of %s' % ', '.join(KINDS))
        self.in_batch = match.get('in_batch')
        if self.in_batch is not None and not isinstance(self.in_batch, bool):
            raise FaultError('match.in_batch must be true or false')

    def _parse_reply(self, spec: dict[str, Any]) -> None:
        self.status: Optional[int] = None
        if spec.get('status') is not None:
            status = spec['status']
            if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
                raise FaultError('status must be an HTTP status code')
            self.status = status
        self.retry_after: Optional[str] = None
        if spec.get('retry_after') is not None:
            value = spec['retry_after']
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise FaultError('retry_after must be a string or a number')
            self.retry_after = str(value)
        self.error_code = spec.get('error_code')
        self.error_message = spec.get('error_message')
        self.body = spec.get('body')
        if self.body is not None and not isinstance(self.body, (str, dict, list)):
            raise FaultError('body must be a string or JSON value')
        self.content_type: Optional[str] = spec.get('content_type')
        headers = spec.get('headers') or {}
        if not isinstance(headers, dict):
            raise FaultError('headers must be a mapping')
        self.headers = {str(k): str(v) for k, v in headers.items()}
        self.location: Optional[str] = spec.get('location')
        if self.location is not None:
            # A header value: no line breaks (they would inject headers) or other control characters.
            if not isinstance(self.location, str) or not self.location or not _HEADER_VALUE_RE.match(self.location):
                raise FaultError('location must be a non-empty URL without control characters')
            if self.status is None or not 300 <= self.status <= 399:
                raise FaultError('location needs a 3xx status')

    def _parse_action(self, spec: dict[str, Any]) -> None:
        self.action: Optional[str] = spec.get('action')
        if self.action is not None and self.action not in ACTIONS:
            raise FaultError('action must be one of %s' % ', '.join(ACTIONS))
        self.seconds = 0.0
        if self.action == 'hang':
            self.seconds = _number(spec.get('seconds'), 'seconds', 0, MAX_HANG_SECONDS)
        elif self.action == 'trickle':
            self.seconds = _number(spec.get('seconds', DEFAULT_TRICKLE_SECONDS), 'seconds', 0.001, MAX_HANG_SECONDS)
        elif spec.get('seconds') is not None:
            raise FaultError('seconds is only for action: hang or trickle')
        self.bytes_per_second = 1
        if spec.get('bytes_per_second') is not None:
            if self.action != 'trickle':
                raise FaultError('bytes_per_second is only for action: trickle')
            self.bytes_per_second = _integer(spec['bytes_per_second'], 'bytes_per_second', 1, MAX_BYTES_PER_SECOND)
        self.body_bytes = 0
        self.chunked = False
        if self.action == 'oversized':
            self.body_bytes = _integer(spec.get('body_bytes'), 'body_bytes', 1, MAX_BODY_BYTES)
            chunked = spec.get('chunked', False)
            if not isinstance(chunked, bool):
                raise FaultError('chunked must be true or false')
            self.chunked = chunked
        elif spec.get('body_bytes') is not None or spec.get('chunked') is not None:
            raise FaultError('body_bytes and chunked are only for action: oversized')
        self.cut_chars = 0
        if spec.get('cut_chars') is not None:
            if self.action != 'echo':
                raise FaultError('cut_chars is only for action: echo')
            self.cut_chars = _integer(spec['cut_chars'], 'cut_chars', 0, MAX_CUT_CHARS)
        self._parse_rewrite(spec.get('rewrite'))
        self.latency_ms = 0.0
        if spec.get('latency_ms') is not None:
            self.latency_ms = _number(spec['latency_ms'], 'latency_ms', 0, MAX_LATENCY_MS)
        if self.action == 'rewrite' and (self.status is not None or self.body is not None):
            raise FaultError('action rewrite changes the real reply: status and body are not allowed')
        if self.status is not None and self.action in ('drop', 'drop_after_work'):
            raise FaultError('a rule cannot both answer with a status and drop the connection')
        if self.action == 'status_after_work' and self.status is None:
            raise FaultError('action status_after_work needs the status to answer with')
        if self.action == 'duplicate' and (self.status is None or self.in_batch is not True):
            raise FaultError('action duplicate needs the status of the second answer and match.in_batch: true')
        if self.body is not None and self.action in ('oversized', 'echo'):
            raise FaultError('action %s makes its own body: body is not allowed' % self.action)
        if self.location is not None and self.action not in (None, 'hang', 'expire_tokens'):
            raise FaultError('location is for a plain redirect (a status, no %s)' % self.action)
        if self.status is None and self.action is None and not self.latency_ms:
            raise FaultError('a rule needs a status, an action or latency_ms')
        self._parse_discovery(spec)

    def _parse_discovery(self, spec: dict[str, Any]) -> None:
        self.discovery: dict[str, Any] = {}
        if self.action != 'rewrite_discovery':
            if spec.get('discovery') is not None:
                raise FaultError('discovery is only for action: rewrite_discovery')
            return
        discovery = spec.get('discovery')
        if not isinstance(discovery, dict) or not discovery or not all(isinstance(key, str) for key in discovery):
            raise FaultError('action rewrite_discovery needs discovery: a mapping of document fields to set (null removes one)')
        if self.kind != 'oidc':
            raise FaultError('action rewrite_discovery needs match.kind: oidc')
        if self.status is not None or self.body is not None:
            raise FaultError('action rewrite_discovery changes the real document: status and body are not allowed')
        self.discovery = dict(discovery)

    def _parse_rewrite(self, rewrite: Any) -> None:
        self.rewrite: dict[str, Any] = {}
        if rewrite is None:
            if self.action == 'rewrite':
                raise FaultError('action rewrite needs a rewrite mapping')
            return
        if self.action != 'rewrite':
            raise FaultError('rewrite is only for action: rewrite')
        if not isinstance(rewrite, dict) or not rewrite:
            raise FaultError('rewrite must be a non-empty mapping')
        unknown = set(rewrite) - REWRITE_KEYS
        if unknown:
            raise FaultError('unknown rewrite keys: %s' % ', '.join(sorted(unknown)))
        for key in ('next_link', 'id'):
            if key in rewrite and not isinstance(rewrite[key], str):
                raise FaultError('rewrite.%s must be a string' % key)
        for key in ('drop_item_id', 'duplicate_item', 'repeat_item'):
            if key in rewrite:
                _integer(rewrite[key], 'rewrite.%s' % key, 0, 100000)
        self.rewrite = dict(rewrite)

    def _parse_counters(self, spec: dict[str, Any]) -> None:
        times = spec.get('times', 1)
        self.remaining: Optional[int]
        if times is None or times == 0:
            self.remaining = None
        elif isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise FaultError('times must be a non-negative integer (0 or null: every time)')
        else:
            self.remaining = times
        skip = spec.get('skip', 0) or 0
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise FaultError('skip must be a non-negative integer')
        self.skip = skip
        every = spec.get('every', 1) or 1
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise FaultError('every must be a positive integer')
        self.every = every
        self.probability: Optional[float] = None
        if spec.get('probability') is not None:
            self.probability = _number(spec['probability'], 'probability', 0, 1)
        elif spec.get('seed') is not None:
            raise FaultError('seed is only for probability')
        seed = spec.get('seed', 0)
        if isinstance(seed, bool) or not isinstance(seed, (int, str)):
            raise FaultError('seed must be an integer or a string')
        self.rng = random.Random(seed)

    # ----- use -----------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """False once the rule has been used up."""
        return self.remaining is None or self.remaining > 0

    @property
    def replies(self) -> bool:
        """Whether the rule answers in place of the real handler (a status or a reply action), without doing the work."""
        return self.action in REPLY_ACTIONS or (self.status is not None and self.action not in ('status_after_work', 'duplicate'))

    @property
    def reply_status(self) -> int:
        """The status the rule answers with."""
        if self.status is not None:
            return self.status
        return REPLY_ACTIONS.get(self.action or '', 500)

    def matches(self, req: Request) -> bool:
        """Whether the request meets every condition of match."""
        if self.kind is not None and self.kind != req.kind:
            return False
        if self.method is not None and self.method != req.method.upper():
            return False
        if self.in_batch is not None and self.in_batch != req.in_batch:
            return False
        if req.in_batch and self.action in STREAM_ACTIONS:
            return False
        if self.path_re is not None and not self.path_re.search(req.path):
            return False
        return True

    def describe(self) -> str:
        """A short description for the request log."""
        parts: list[str] = []
        if self.name:
            parts.append(str(self.name) + ':')
        if self.latency_ms:
            parts.append('latency %gms' % self.latency_ms)
        if self.action == 'hang':
            parts.append('hang %gs' % self.seconds)
        elif self.action == 'trickle':
            parts.append('trickle %dB/s for %gs' % (self.bytes_per_second, self.seconds))
        elif self.action == 'oversized':
            parts.append('oversized %d bytes%s' % (self.body_bytes, ' chunked' if self.chunked else ''))
        elif self.action == 'echo' and self.cut_chars:
            parts.append('echo cut %d' % self.cut_chars)
        elif self.action == 'rewrite':
            parts.append('rewrite %s' % ','.join(sorted(self.rewrite)))
        elif self.action == 'rewrite_discovery':
            parts.append('rewrite_discovery %s' % ','.join(sorted(self.discovery)))
        elif self.action:
            parts.append(self.action)
        if self.status is not None or self.action in REPLY_ACTIONS:
            parts.append('status %d' % self.reply_status)
            if self.retry_after is not None:
                parts.append('Retry-After %s' % self.retry_after)
            if self.location is not None:
                parts.append('Location %s' % clip(self.location, 80))
        if self.every > 1:
            parts.append('(every %d)' % self.every)
        if self.probability is not None:
            parts.append('(probability %g)' % self.probability)
        return ' '.join(parts)

    def summary(self) -> dict[str, Any]:
        """The rule and its counters, for the admin state view."""
        return {'rule': self.spec, 'description': self.describe(), 'remaining': self.remaining, 'skip': self.skip, 'seen': self.seen,
                'applied': self.applied}


class FaultSet:
    """The ordered rules; thread-safe."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, spec: Any) -> list[FaultRule]:
        """Add one rule or a list of rules (all are validated before any is added)."""
        specs = spec if isinstance(spec, list) else [spec]
        rules = [FaultRule(item) for item in specs]
        with self._lock:
            self._rules.extend(rules)
        return rules

    def replace(self, specs: list[Any]) -> None:
        """Validate ``specs``, then make them the only rules."""
        rules = [FaultRule(item) for item in specs]
        with self._lock:
            self._rules = rules

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules = []

    def select(self, req: Request) -> Optional[FaultRule]:
        """The first active matching rule, with its counters moved on; None when no rule applies.

        A matching rule that is still skipping, or passes this request by (every, probability), lets it go on to the next rules."""
        with self._lock:
            for rule in self._rules:
                if not rule.active or not rule.matches(req):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                rule.seen += 1
                if rule.seen % rule.every:
                    continue
                if rule.probability is not None and rule.rng.random() >= rule.probability:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                rule.applied += 1
                return rule
        return None

    def summaries(self) -> list[dict[str, Any]]:
        """Every rule with its counters."""
        with self._lock:
            return [rule.summary() for rule in self._rules]
