# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How a wait ends (_migration/wait.py: watch_tasks, watch_job), and the run's deadline
(timeout_total: its check in argspec.py, Deadline.reached, the failure note in results.py)."""

from __future__ import annotations

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.argspec import check_timeout_total
from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.results import Shaped, add_wait, deadline_note
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, GraphRequestError, OptionError
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline, RetryPolicy
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.wait import (
    MISSING,
    READ_FAILED,
    SETTLED,
    TIMED_OUT,
    wait_deadlines,
    watch_job,
    watch_tasks,
)

from ansible_collections.msgraph.migrations.tests.unit.fakes import JOB, TASK, FakeClock, job, task

OTHER = '0c1f7a2e-5d4b-4f8e-9a3c-2b6d8e1f4a70'


class Clock(FakeClock):
    """The fake clock, with reads that can each take ``read_seconds``."""

    def __init__(self, read_seconds=0.0):
        super().__init__()
        self.read_seconds = read_seconds
        self.polls = []

    def reader(self, answer):
        """A read that records when it was sent and answers ``answer(now)``."""
        def read():
            self.polls.append(self.now)
            self.now += self.read_seconds
            return answer(self.polls[-1])
        return read


def settling_at(when, *ids):
    return lambda now: {task_id: task(task_id, Exchange='cancelled' if now >= when else 'pendingCancel') for task_id in ids}


def test_the_last_poll_is_at_the_deadline_and_sees_a_late_finish():
    # The case: settled 3.8 s after the cancel, wait_timeout 6; polls at 0, 1, 3 and (not 7) at 6.
    clock = Clock()
    report = watch_tasks(clock.reader(settling_at(3.8, TASK)), [TASK], Deadline(6, clock=clock), sleep=clock.sleep)
    assert clock.polls == [0, 1, 3, 6]
    assert report.status == SETTLED and not report.failed and report.seconds == 6 and report.polls == 4


def test_a_timeout_reports_the_real_time_waited_not_wait_timeout():
    clock = Clock(read_seconds=1.5)
    report = watch_tasks(clock.reader(settling_at(99, TASK)), [TASK], Deadline(5, clock=clock), sleep=clock.sleep)
    assert report.status == TIMED_OUT and report.still_pending == [TASK]
    assert report.seconds == 6.5, 'the last poll starts at 5 s and takes 1.5 s'
    assert report.message.startswith('Waited 6.5 s (wait_timeout) and this task is still pendingCancel: %s.' % TASK)
    assert clock.polls[-1] == 5


def test_a_read_that_fails_ends_the_wait_keeping_the_last_successful_read():
    clock = Clock()
    answers = iter([{TASK: task(Exchange='pendingCancel')}])

    def read():
        try:
            return next(answers)
        except StopIteration:
            raise GraphRequestError('Reading task failed', 403, 'Authorization_RequestDenied', 'Missing role', 'rid-1') from None

    report = watch_tasks(read, [TASK], Deadline(60, clock=clock), sleep=clock.sleep)
    assert report.status == READ_FAILED and report.failed and report.polls == 2
    assert report.latest == {TASK: task(Exchange='pendingCancel')} and report.still_pending == [TASK]
    assert report.error == {'code': 'Authorization_RequestDenied', 'message': 'Missing role', 'status': 403, 'request_id': 'rid-1'}
    assert 'because a read failed: Reading task failed: HTTP 403' in report.message and 'The cancel was accepted.' in report.message


def test_a_task_missing_from_the_last_listing_is_not_settled():
    clock = Clock()
    reads = iter([{TASK: task(Exchange='pendingCancel'), OTHER: task(OTHER, Exchange='pendingCancel')},
                  {TASK: task(Exchange='cancelled')}])
    report = watch_tasks(lambda: next(reads), [TASK, OTHER], Deadline(60, clock=clock), sleep=clock.sleep)
    assert report.status == MISSING and report.failed and report.missing == [OTHER] and report.still_pending == []
    assert 'no longer in the listing of the job: %s' % OTHER in report.message
    assert report.last_seen[OTHER] == task(OTHER, Exchange='pendingCancel'), 'what an earlier poll showed'
    assert report.last_seen[TASK] == task(Exchange='cancelled')


def test_a_missing_task_is_named_in_a_timeout_too():
    clock = Clock()
    report = watch_tasks(lambda: {TASK: task(Exchange='pendingCancel')}, [TASK, OTHER], Deadline(3, clock=clock), sleep=clock.sleep)
    assert report.status == TIMED_OUT and report.missing == [OTHER] and 'Also no longer in the listing of the job: %s' % OTHER in report.message


def test_a_job_wait_that_fails_on_a_link_elsewhere_says_so():
    clock = Clock()
    reads = iter([job('pendingCancel')])

    def read():
        for answer in reads:
            return answer
        raise GraphMigrationsError('Graph sent a link to follow (@odata.nextLink) outside https://graph; it was not followed.')

    report = watch_job(read, JOB, Deadline(60, clock=clock), sleep=clock.sleep)
    assert report.status == READ_FAILED and report.latest == job('pendingCancel') and report.error == {}
    assert '@odata.nextLink' in report.message


def test_the_reads_of_a_wait_get_what_is_left_of_the_run_plus_wait_timeout():
    clock = Clock()
    run = Deadline(10, clock=clock)
    clock.now = 4
    polls, reads = wait_deadlines(run, 30)
    assert polls.seconds == 30 and reads.seconds == 36, 'the run never passes timeout_total + wait_timeout'


def test_add_wait_keeps_the_cancel_results_and_adds_the_failure():
    clock = Clock()
    report = watch_tasks(lambda: {TASK: task(Exchange='pendingCancel')}, [TASK], Deadline(2, clock=clock), sleep=clock.sleep)
    shaped = Shaped({'changed': True, 'outcome': 'cancelled'}, failure='An earlier failure.')
    add_wait(shaped, report)
    assert shaped.fields['changed'] is True and shaped.fields['outcome'] == 'cancelled'
    assert shaped.fields['still_pending'] == [TASK] and shaped.fields['wait']['status'] == TIMED_OUT
    assert shaped.failure.startswith('An earlier failure. Waited 2 s (wait_timeout)')


@pytest.mark.parametrize('value', [0, -1.5, float('inf'), float('nan'), 86400.5, True, 'ten'])
def test_timeout_total_must_be_a_finite_positive_number_up_to_a_day(value):
    with pytest.raises(OptionError) as caught:
        check_timeout_total({'timeout_total': value})
    assert caught.value.option == 'timeout_total'
    assert caught.value.message.startswith('Invalid value for option timeout_total: expected a number of seconds greater than 0 and at most 86400')


@pytest.mark.parametrize('value', [0.5, 5, 3600, 86400])
def test_timeout_total_accepts_seconds_up_to_a_day(value):
    assert check_timeout_total({'timeout_total': value}) == float(value)


def test_a_deadline_is_reached_when_it_refused_a_retry_before_it_expired():
    clock = Clock()
    deadline = Deadline(5, clock=clock)
    assert deadline_note(deadline) == ''
    decision = RetryPolicy(10).decide(0, deadline, 503, {'Retry-After': '6'})
    assert not decision.retry and deadline.reached and not deadline.expired
    assert deadline_note(deadline).startswith('The run reached timeout_total (5 s) and stopped there')
    assert 'after reading 3 page(s) of the listing' in deadline_note(deadline, pages_listed=3)
    assert deadline.elapsed() == 0
    clock.now = 7
    assert deadline.elapsed() == 7 and deadline.expired
