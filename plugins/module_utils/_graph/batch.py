# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""JSON batching: many requests through ``POST /$batch``, 20 to an envelope, several
envelopes in flight, each sub-request retried by the same rule as a plain request.

A throttled sub-request (429/503/504 with its own ``Retry-After``) goes into a later
envelope; a throttled, failed or lost envelope sends all of its sub-requests again.
Every sub-request ends with exactly one final answer (or none, with the reason),
and keeps the facts of its attempts: whether one may have been carried out without
an answer (``in_doubt``) and when the first was sent.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import (
    MAX_BATCH_REQUESTS,
    GraphClient,
    GraphTransportError,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import (
    NO_DEADLINE,
    NOT_CARRIED_OUT_STATUSES,
    Deadline,
    header,
    may_have_been_carried_out,
)

MAX_CONCURRENCY = 8


@dataclass
class SubRequest:
    """One request of a batch; ``url`` is relative to the version root (``/solutions/...``)."""

    id: str
    method: str
    url: str
    body: Any = None


@dataclass
class SubResult:
    """The final answer to one sub-request, with the facts of its attempts."""

    id: str
    status: Optional[int] = None
    headers: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    request_id: Optional[str] = None
    attempts: int = 0
    # Some attempt got through to a server (whatever it answered).
    reached: bool = False
    in_doubt: bool = False
    first_sent_at: float = 0.0
    # Why there is no final answer, or why it was not retried further.
    problem: str = ''


@dataclass
class BatchStats:
    envelopes: int = 0
    sub_retries: int = 0
    envelope_retries: int = 0
    throttled: int = 0


class _Pending:
    """A sub-request waiting to be sent, and when it may go."""

    def __init__(self, request: SubRequest, result: SubResult) -> None:
        self.request = request
        self.result = result
        self.ready_at = 0.0


class BatchRunner:
    """Sends sub-requests through ``$batch`` until each has a final answer or may not be retried."""

    def __init__(self, client: GraphClient, concurrency: int = 4, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._concurrency = max(1, min(concurrency, MAX_CONCURRENCY))
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Condition()
        self._queue: deque[_Pending] = deque()
        self._in_flight = 0
        # A failure no retry can mend (the token could not be had): stops every worker.
        self._abort: Optional[GraphMigrationsError] = None
        self.stats = BatchStats()

    def run(self, requests: list[SubRequest], deadline: Deadline = NO_DEADLINE) -> dict[str, SubResult]:
        results = {request.id: SubResult(request.id) for request in requests}
        self._queue = deque(_Pending(request, results[request.id]) for request in requests)
        if len(self._queue) == 0:
            return results
        workers = min(self._concurrency, -(-len(self._queue) // MAX_BATCH_REQUESTS))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix='msgraph-batch') as pool:
            for future in [pool.submit(self._work, deadline) for _worker in range(workers)]:
                future.result()
        if self._abort is not None:
            for item in self._queue:
                item.result.problem = 'not sent, because %s' % self._abort.message
        return results

    # ----- scheduling ----------------------------------------------------------------------

    def _take(self, deadline: Deadline) -> list[_Pending]:
        """Up to 20 sub-requests that are due; waits for one when all are held back; [] when done."""
        with self._lock:
            while True:
                if self._abort is not None:
                    return []
                if not self._queue:
                    if self._in_flight == 0:
                        self._lock.notify_all()
                        return []
                    self._lock.wait(0.5)
                    continue
                now = self._clock()
                due = [item for item in self._queue if item.ready_at <= now][:MAX_BATCH_REQUESTS]
                if due:
                    for item in due:
                        self._queue.remove(item)
                    self._in_flight += 1
                    return due
                wait = min(item.ready_at for item in self._queue) - now
                self._lock.wait(deadline.bound(max(0.01, wait)) or 0.01)

    def _give_back(self, retry: list[_Pending]) -> None:
        with self._lock:
            self._queue.extend(retry)
            self._in_flight -= 1
            self._lock.notify_all()

    def _work(self, deadline: Deadline) -> None:
        while True:
            batch = self._take(deadline)
            if not batch:
                return
            retry: list[_Pending] = []
            try:
                retry = self._send(batch, deadline)
            finally:
                self._give_back(retry)

    # ----- one envelope --------------------------------------------------------------------

    def _send(self, batch: list[_Pending], deadline: Deadline) -> list[_Pending]:
        """Send one envelope; settle each sub-request or return those to send again."""
        body = {'requests': [{'id': item.request.id, 'method': item.request.method, 'url': item.request.url,
                              **({'body': item.request.body, 'headers': {'Content-Type': 'application/json'}}
                                 if item.request.body is not None else {})} for item in batch]}
        with self._lock:
            self.stats.envelopes += 1
        sent_at = time.time()
        for item in batch:
            item.result.attempts += 1
            item.result.first_sent_at = item.result.first_sent_at or sent_at
        try:
            envelope = self._client.request('POST', '/$batch', json_body=body, deadline=deadline, retry=False, quiet=True)
        except GraphTransportError as exc:
            for item in batch:
                item.result.reached = item.result.reached or exc.reached
            return self._envelope_failed(batch, deadline, None, None, exc.in_doubt, str(exc.message), exc.cause.retryable)
        except GraphMigrationsError as exc:
            # Raised before the envelope was sent (no token): these and the rest are reported as not sent.
            with self._lock:
                self._abort = self._abort or exc
            for item in batch:
                item.result.problem = 'not sent, because %s' % exc.message
            return []
        for item in batch:
            item.result.reached = True
        if not envelope.ok:
            return self._envelope_failed(batch, deadline, envelope.status, envelope.headers,
                                         may_have_been_carried_out(envelope.status), 'the $batch request was answered %s'
                                         % envelope.describe(), True)
        answers = self._answers(envelope.body)
        retry: list[_Pending] = []
        for item in batch:
            answer = answers.get(item.request.id)
            if answer is None:
                # The envelope came back without this sub-request's answer: it may have been carried out.
                item.result.in_doubt = True
                retry.extend(self._retry_or_settle(item, deadline, None, None,
                                                   'the $batch reply held no answer for this request (%s)' % envelope.request_id))
                continue
            status, headers, sub_body = answer
            decision = self._client.policy.decide(item.result.attempts - 1, deadline, status, headers)
            if decision.retry:
                item.result.in_doubt = item.result.in_doubt or may_have_been_carried_out(status)
                retry.append(self._hold(item, decision.delay, status))
                continue
            item.result.status = status
            item.result.headers = headers
            item.result.body = sub_body
            item.result.request_id = header(headers, 'request-id') or envelope.request_id
            item.result.problem = decision.reason
        return self._regroup(retry)

    @staticmethod
    def _regroup(retry: list[_Pending]) -> list[_Pending]:
        """Sub-requests retried from one envelope go again together, after the longest of their waits,
        so a retry fills an envelope rather than 20 (jitter would scatter them)."""
        if retry:
            ready_at = max(item.ready_at for item in retry)
            for item in retry:
                item.ready_at = ready_at
        return retry

    @staticmethod
    def _answers(body: Any) -> dict[str, tuple[int, dict[str, Any], Any]]:
        """The well-formed sub-responses of an envelope, by id (malformed ones are left out)."""
        answers: dict[str, tuple[int, dict[str, Any], Any]] = {}
        responses = body.get('responses') if isinstance(body, dict) else None
        for response in responses if isinstance(responses, list) else []:
            if not isinstance(response, dict):
                continue
            sub_id, status = response.get('id'), response.get('status')
            if not isinstance(sub_id, str) or isinstance(status, bool) or not isinstance(status, int):
                continue
            headers = response.get('headers') if isinstance(response.get('headers'), dict) else {}
            answers[sub_id] = (status, headers, response.get('body'))
        return answers

    def _hold(self, item: _Pending, delay: float, status: Optional[int]) -> _Pending:
        with self._lock:
            self.stats.sub_retries += 1
            if status in NOT_CARRIED_OUT_STATUSES:
                self.stats.throttled += 1
        if status in NOT_CARRIED_OUT_STATUSES:
            # Every worker holds off, so concurrency does not multiply the throttling.
            self._client.gate.hold(delay)
        item.ready_at = self._clock() + delay
        return item

    def _retry_or_settle(self, item: _Pending, deadline: Deadline, status: Optional[int], headers: Any, problem: str) -> list[_Pending]:
        decision = self._client.policy.decide(item.result.attempts - 1, deadline, status, headers)
        if decision.retry:
            return [self._hold(item, decision.delay, status)]
        item.result.problem = problem + ('; ' + decision.reason if decision.reason else '')
        return []

    def _envelope_failed(self, batch: list[_Pending], deadline: Deadline, status: Optional[int], headers: Any, in_doubt: bool,
                         problem: str, retryable: bool) -> list[_Pending]:
        with self._lock:
            self.stats.envelope_retries += 1
        retry: list[_Pending] = []
        for item in batch:
            item.result.in_doubt = item.result.in_doubt or in_doubt
            if retryable:
                retry.extend(self._retry_or_settle(item, deadline, status, headers, problem))
            else:
                item.result.problem = problem
        return self._regroup(retry)
