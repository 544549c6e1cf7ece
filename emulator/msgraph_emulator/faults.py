# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault rules: match a request, then answer with an error, drop the connection, hang or slow down."""

from __future__ import annotations

import random
import re
import threading
from typing import Any, Dict, List, Optional

from .util import Request

KINDS = ("graph", "token", "msi", "oidc", "batch")
ACTIONS = ("drop", "drop_after_work", "status_after_work", "hang", "expire_tokens")
MAX_HANG_SECONDS = 300.0
MAX_LATENCY_MS = 60000.0
_RULE_KEYS = frozenset({
    "name", "match", "status", "retry_after", "error_code", "error_message", "body", "content_type", "headers",
    "action", "seconds", "latency_ms", "times", "skip", "every", "probability", "seed",
})
_MATCH_KEYS = frozenset({"method", "path", "kind", "in_batch"})


class FaultError(ValueError):
    """A fault rule that cannot be understood."""


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultError("%s must be a number" % what)
    if not low <= value <= high:
        raise FaultError("%s must be between %s and %s" % (what, low, high))
    return float(value)


class FaultRule:
    """One rule. See emulator/README.md for the format."""

    def __init__(self, spec: Dict[str, Any]):
        if not isinstance(spec, dict):
            raise FaultError("a fault rule must be a mapping")
        unknown = set(spec) - _RULE_KEYS
        if unknown:
            raise FaultError("unknown fault rule keys: %s" % ", ".join(sorted(unknown)))
        self.spec = dict(spec)
        self.name = spec.get("name")
        match = spec.get("match") or {}
        if not isinstance(match, dict):
            raise FaultError("match must be a mapping")
        unknown = set(match) - _MATCH_KEYS
        if unknown:
            raise FaultError("unknown match keys: %s" % ", ".join(sorted(unknown)))
        self.method = match.get("method")
        if self.method is not None:
            self.method = str(self.method).upper()
        self.path_re = None
        if match.get("path") is not None:
            try:
                self.path_re = re.compile(str(match["path"]))
            except re.error as exc:
                raise FaultError("match.path is not a valid regular expression: %s" % exc) from exc
        self.kind = match.get("kind")
        if self.kind is not None and self.kind not in KINDS:
            raise FaultError("match.kind must be one of %s" % ", ".join(KINDS))
        self.in_batch = match.get("in_batch")
        if self.in_batch is not None and not isinstance(self.in_batch, bool):
            raise FaultError("match.in_batch must be true or false")

        self.status: Optional[int] = None
        if spec.get("status") is not None:
            status = spec["status"]
            if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
                raise FaultError("status must be an HTTP status code")
            self.status = status
        self.retry_after: Optional[str] = None
        if spec.get("retry_after") is not None:
            value = spec["retry_after"]
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise FaultError("retry_after must be a string or a number")
            self.retry_after = str(value)
        self.error_code = spec.get("error_code")
        self.error_message = spec.get("error_message")
        self.body = spec.get("body")
        if self.body is not None and not isinstance(self.body, (str, dict, list)):
            raise FaultError("body must be a string or JSON value")
        self.content_type = spec.get("content_type")
        self.headers = spec.get("headers") or {}
        if not isinstance(self.headers, dict):
            raise FaultError("headers must be a mapping")
        self.headers = {str(k): str(v) for k, v in self.headers.items()}
        self.action = spec.get("action")
        if self.action is not None and self.action not in ACTIONS:
            raise FaultError("action must be one of %s" % ", ".join(ACTIONS))
        self.seconds = 0.0
        if self.action == "hang":
            self.seconds = _number(spec.get("seconds"), "seconds", 0, MAX_HANG_SECONDS)
        elif spec.get("seconds") is not None:
            raise FaultError("seconds is only for action: hang")
        self.latency_ms = 0.0
        if spec.get("latency_ms") is not None:
            self.latency_ms = _number(spec["latency_ms"], "latency_ms", 0, MAX_LATENCY_MS)
        if self.status is not None and self.action in ("drop", "drop_after_work"):
            raise FaultError("a rule cannot both answer with a status and drop the connection")
        if self.action == "status_after_work" and self.status is None:
            raise FaultError("action status_after_work needs the status to answer with")
        if self.status is None and self.action is None and not self.latency_ms:
            raise FaultError("a rule needs a status, an action or latency_ms")
        times = spec.get("times", 1)
        if times is None or times == 0:
            self.remaining: Optional[int] = None
        elif isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise FaultError("times must be a non-negative integer (0 or null: every time)")
        else:
            self.remaining = times
        skip = spec.get("skip", 0) or 0
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise FaultError("skip must be a non-negative integer")
        self.skip = skip
        every = spec.get("every", 1) or 1
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise FaultError("every must be a positive integer")
        self.every = every
        self.probability: Optional[float] = None
        if spec.get("probability") is not None:
            self.probability = _number(spec["probability"], "probability", 0, 1)
        elif spec.get("seed") is not None:
            raise FaultError("seed is only for probability")
        seed = spec.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, (int, str)):
            raise FaultError("seed must be an integer or a string")
        self.rng = random.Random(seed)
        self.seen = 0
        self.applied = 0

    @property
    def active(self) -> bool:
        """False once the rule has been used up."""
        return self.remaining is None or self.remaining > 0

    def matches(self, req: Request) -> bool:
        """Whether the request meets every condition of match."""
        if self.kind is not None and self.kind != req.kind:
            return False
        if self.method is not None and self.method != req.method.upper():
            return False
        if self.in_batch is not None and self.in_batch != req.in_batch:
            return False
        if self.path_re is not None and not self.path_re.search(req.path):
            return False
        return True

    def describe(self) -> str:
        """A short description for the request log."""
        parts: List[str] = []
        if self.name:
            parts.append(str(self.name) + ":")
        if self.latency_ms:
            parts.append("latency %gms" % self.latency_ms)
        if self.action == "hang":
            parts.append("hang %gs" % self.seconds)
        elif self.action:
            parts.append(self.action)
        if self.status is not None:
            parts.append("status %d" % self.status)
            if self.retry_after is not None:
                parts.append("Retry-After %s" % self.retry_after)
        if self.every > 1:
            parts.append("(every %d)" % self.every)
        if self.probability is not None:
            parts.append("(probability %g)" % self.probability)
        return " ".join(parts)

    def summary(self) -> Dict[str, Any]:
        """The rule and its counters, for the admin state view."""
        return {"rule": self.spec, "description": self.describe(), "remaining": self.remaining, "skip": self.skip, "seen": self.seen,
                "applied": self.applied}


class FaultSet:
    """The ordered rules; thread-safe."""

    def __init__(self) -> None:
        self._rules: List[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, spec: Any) -> List[FaultRule]:
        """Add one rule or a list of rules (all are validated before any is added)."""
        specs = spec if isinstance(spec, list) else [spec]
        rules = [FaultRule(item) for item in specs]
        with self._lock:
            self._rules.extend(rules)
        return rules

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

    def summaries(self) -> List[Dict[str, Any]]:
        """Every rule with its counters."""
        with self._lock:
            return [rule.summary() for rule in self._rules]
