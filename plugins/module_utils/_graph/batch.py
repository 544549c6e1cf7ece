# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""JSON batching: many requests through ``POST /$batch``, 20 to an envelope, several
envelopes in flight, each sub-request retried by the same rule as a plain request.

A throttled sub-request (429/503/504 with its own ``Retry-After``) goes into a later
envelope; a throttled, failed or lost envelope sends all of its sub-requests again.
Every sub-request ends with exactly one final answer (or none, with the reason),
and keeps the facts of its attempts: whether one reached a server (``reached``),
whether one may have been carried out without an answer (``in_doubt``) and when
the first was sent.

A reply is not trusted blindly: an answer missing, malformed or given twice with
different contents leaves its sub-request in doubt and sends it again (the retry's
409 is then judged by the evidence rule); an answer for an id that was not asked is
ignored. Nothing is sent, and nothing waits, past the caller's deadline.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, TransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import (
    MAX_BATCH_REQUESTS,
    GraphClient,
    GraphReply,
    GraphTransportError,
    TokenRefreshError,
    parse_graph_error,
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
    # Replies that could not be taken at their word (contradictory or malformed answers), for the message.
    notes: list[str] = field(default_factory=list)


@dataclass
class BatchStats:
    envelopes: int = 0
    sub_retries: int = 0
    envelope_retries: int = 0
    throttled: int = 0


@dataclass(frozen=True)
class _Answer:
    """One well-formed sub-response."""

    status: int
    headers: dict[str, Any]
    body: Any


class _Pending:
    """A sub-request waiting to be sent, and when it may go."""

    def __init__(self, request: SubRequest, result: SubResult) -> None:
        self.request = request
        self.result = result
        self.ready_at = 0.0
        # What the last attempt met, when it is sent again (for the message if it never is).
        self.last = ''


class BatchRunner:
    """Sends sub-requests through ``$batch`` until each has a final answer or may not be retried."""

    def __init__(self, client: GraphClient, concurrency: int = 4, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, wall_clock: Optional[Callable[[], float]] = None) -> None:
        self._client = client
        self._concurrency = max(1, min(concurrency, MAX_CONCURRENCY))
        self._sleep = sleep
        self._clock = clock
        # Wall-clock time of a first attempt, for the evidence rule (time.time when not given).
        self._wall_clock = wall_clock
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
        for item in self._queue:
            item.result.problem = self._left_over(item)
        return results

    def _left_over(self, item: _Pending) -> str:
        """Why a sub-request still queued at the end was not sent (again): the run was stopped, or its deadline passed."""
        again = item.result.attempts > 0
        if self._abort is not None:
            why = '%s, because %s' % ('not sent again' if again else 'not sent', self._abort.message)
        elif again:
            why = "the task's deadline passed before it could be sent again"
        else:
            why = "the task's deadline passed before it was sent"
        return why + (' (the last attempt met: %s)' % item.last if again and item.last else '')

    # ----- scheduling ----------------------------------------------------------------------

    def _take(self, deadline: Deadline) -> list[_Pending]:
        """Up to 20 sub-requests that are due; waits for one when all are held back; [] when done or out of time."""
        while True:
            with self._lock:
                due, wait = self._due(deadline)
                if due is not None:
                    return due
                if self._in_flight:
                    # Another envelope may give sub-requests back: be woken by it.
                    self._lock.wait(wait)
                    continue
            # Nothing in flight: only time can make a held-back sub-request due.
            self._sleep(wait)

    def _due(self, deadline: Deadline) -> tuple[Optional[list[_Pending]], float]:
        """Under the lock: the sub-requests to send now ([] when there is nothing more to do), or None and how long to wait."""
        if self._abort is not None or deadline.expired or (not self._queue and self._in_flight == 0):
            self._lock.notify_all()
            return [], 0.0
        if not self._queue:
            return None, deadline.bound(0.5)
        now = self._clock()
        due = [item for item in self._queue if item.ready_at <= now][:MAX_BATCH_REQUESTS]
        if due:
            for item in due:
                self._queue.remove(item)
            self._in_flight += 1
            return due, 0.0
        # Never past the deadline: once it passes, the next look ends the run.
        return None, deadline.bound(max(0.001, min(item.ready_at for item in self._queue) - now))

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
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # A bug must not lose what was sent: report these, stop the rest (never the exception's text: it may quote a request).
                self._unexpected(batch, exc)
            finally:
                self._give_back(retry)

    def _unexpected(self, batch: list[_Pending], exc: Exception) -> None:
        failure = GraphMigrationsError('an unexpected %s in msgraph.migrations stopped the $batch requests; please report it'
                                       % type(exc).__name__)
        with self._lock:
            self._abort = self._abort or failure
        for item in batch:
            if item.result.status is None:
                item.result.in_doubt = True
                item.result.problem = failure.message + '; this request may have been carried out'

    # ----- one envelope --------------------------------------------------------------------

    def _send(self, batch: list[_Pending], deadline: Deadline) -> list[_Pending]:
        """Send one envelope; settle each sub-request or return those to send again."""
        # Hold off while Graph throttles, then look at the clock: what cannot be sent in time goes back unsent.
        self._client.gate.wait(deadline)
        if deadline.expired:
            return batch
        body = {'requests': [{'id': item.request.id, 'method': item.request.method, 'url': item.request.url,
                              **({'body': item.request.body, 'headers': {'Content-Type': 'application/json'}}
                                 if item.request.body is not None else {})} for item in batch]}
        with self._lock:
            self.stats.envelopes += 1
        sent_at = (self._wall_clock or time.time)()
        before = [(item.result.attempts, item.result.first_sent_at) for item in batch]
        for item in batch:
            item.result.attempts += 1
            item.result.first_sent_at = item.result.first_sent_at or sent_at
        try:
            envelope = self._client.request('POST', '/$batch', json_body=body, deadline=deadline, retry=False, quiet=True)
        except GraphTransportError as exc:
            if not exc.reached and exc.cause.kind == TransportError.TIMEOUT and deadline.expired:
                # The deadline passed before the envelope left: not an attempt.
                for item, (attempts, first_sent_at) in zip(batch, before):
                    item.result.attempts, item.result.first_sent_at = attempts, first_sent_at
                return batch
            for item in batch:
                item.result.reached = item.result.reached or exc.reached
            return self._envelope_failed(batch, deadline, None, None, exc.in_doubt, str(exc.message), exc.cause.retryable)
        except TokenRefreshError as exc:
            # Graph refused the envelope with 401 (so carried out none of it) and no new token came: sent, not cancelled.
            self._stop(exc)
            for item in batch:
                item.result.reached = True
                item.result.problem = 'sent, but Graph refused the $batch request with 401 and no new token could be had: %s' % exc.message
            return []
        except GraphMigrationsError as exc:
            # Raised before the envelope was sent (no token): these and the rest are reported as not sent.
            self._stop(exc)
            for item in batch:
                item.result.problem = '%s, because %s' % ('not sent again' if item.result.reached else 'not sent', exc.message)
            return []
        for item in batch:
            item.result.reached = True
        if not envelope.ok:
            return self._envelope_failed(batch, deadline, envelope.status, envelope.headers,
                                         may_have_been_carried_out(envelope.status), 'the $batch request was answered %s'
                                         % envelope.describe(), True)
        answers, doubtful = _answers(envelope.body)
        where = ' (request-id: %s)' % envelope.request_id if envelope.request_id else ''
        retry: list[_Pending] = []
        for item in batch:
            answer = answers.get(item.request.id)
            if answer is None:
                retry.extend(self._unanswered(item, doubtful.get(item.request.id), where, deadline))
            else:
                retry.extend(self._judge(item, answer, envelope, deadline))
        return self._regroup(retry)

    def _stop(self, exc: GraphMigrationsError) -> None:
        with self._lock:
            self._abort = self._abort or exc

    def _unanswered(self, item: _Pending, why: Optional[str], where: str, deadline: Deadline) -> list[_Pending]:
        """A 2xx envelope without an answer to trust for this sub-request: it may have been carried out; sent again ([item]) if allowed."""
        if why is not None:
            item.result.notes.append(why + where)
        item.result.in_doubt = True
        item.last = why or 'the $batch reply held no answer for this request'
        return self._retry_or_settle(item, deadline, None, None, item.last + where)

    def _judge(self, item: _Pending, answer: _Answer, envelope: GraphReply, deadline: Deadline) -> list[_Pending]:
        """One sub-request's answer: final, or sent again ([item])."""
        # A 500, 502 or 504 may hide a request that was carried out, whether or not it is retried.
        item.result.in_doubt = item.result.in_doubt or may_have_been_carried_out(answer.status)
        decision = self._client.policy.decide(item.result.attempts - 1, deadline, answer.status, answer.headers)
        if decision.retry:
            item.last = 'HTTP %d' % answer.status
            return [self._hold(item, decision.delay, answer.status)]
        item.result.status = answer.status
        item.result.headers = answer.headers
        item.result.body = answer.body
        item.result.request_id = header(answer.headers, 'request-id') or envelope.request_id
        item.result.problem = decision.reason
        return []

    @staticmethod
    def _regroup(retry: list[_Pending]) -> list[_Pending]:
        """Sub-requests retried from one envelope go again together, after the longest of their waits,
        so a retry fills an envelope rather than 20 (jitter would scatter them)."""
        if retry:
            ready_at = max(item.ready_at for item in retry)
            for item in retry:
                item.ready_at = ready_at
        return retry

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
            item.last = problem
            if retryable:
                retry.extend(self._retry_or_settle(item, deadline, status, headers, problem))
            else:
                item.result.problem = problem
        return self._regroup(retry)


def _well_formed(response: dict[str, Any]) -> Optional[_Answer]:
    """The answer a sub-response gives, or None when it is malformed (a status that is no HTTP status)."""
    status = response.get('status')
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return None
    headers = response.get('headers') if isinstance(response.get('headers'), dict) else {}
    return _Answer(status, headers, response.get('body'))


def _same_answer(one: _Answer, other: _Answer) -> bool:
    """Whether two answers for one request say the same: the same status and, for an error, the same
    Graph error code (its message, date and request-id may differ), else the same body."""
    if one.status != other.status:
        return False
    if one.status >= 400:
        error = parse_graph_error(one.body)
        if error is not None:
            return error[0] == (parse_graph_error(other.body) or (None,))[0]
    return one.body == other.body


def _answers(body: Any) -> tuple[dict[str, _Answer], dict[str, str]]:
    """The answers of an envelope that can be taken at their word, by id; and the ids whose answers
    cannot (malformed, or given more than once with different contents), with why.

    An id given twice with the same answer (see _same_answer) is one answer. Entries without a string id
    belong to no request and are left out; so are ids nobody asked for (the caller looks up its own)."""
    given: dict[str, list[Optional[_Answer]]] = {}
    responses = body.get('responses') if isinstance(body, dict) else None
    for response in responses if isinstance(responses, list) else []:
        if isinstance(response, dict) and isinstance(response.get('id'), str):
            given.setdefault(response['id'], []).append(_well_formed(response))
    answers: dict[str, _Answer] = {}
    doubtful: dict[str, str] = {}
    for sub_id, entries in given.items():
        well_formed = [entry for entry in entries if entry is not None]
        if len(well_formed) < len(entries):
            doubtful[sub_id] = 'the $batch reply held a malformed answer for this request'
        elif all(_same_answer(well_formed[0], entry) for entry in well_formed[1:]):
            answers[sub_id] = well_formed[0]
        else:
            doubtful[sub_id] = ('the $batch reply held %d contradictory answers for this request (%s), so none was taken'
                                % (len(entries), ', '.join('HTTP %d' % entry.status for entry in well_formed)))
    return answers, doubtful
