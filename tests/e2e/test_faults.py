# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fault matrix: each row a real ansible-playbook run against the emulator injecting one
fault, asserting the module's result and what reached the emulator (its request log).

docs/docsite/rst/guide_faults.rst lists what the module promises under each row.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from conftest import JOB, TASK_ACTIVE, TASK_CANCELLED, base_scenario

CANCEL = {'method': 'POST', 'path': '/cancel$'}
TASK_READ = {'method': 'GET', 'path': '/users/[^/]+$'}


def graph_calls(harness):
    return [(e['method'], e['status']) for e in harness.requests(kind='graph')]


def task_workloads(harness, task_id=TASK_ACTIVE):
    return set(w['status'] for w in harness.emu.task(JOB, task_id)['currentStatus'])


def wait_for_log(harness, predicate, seconds=10.0):
    """Entries of a request still being served are logged when it ends."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        entries = [e for e in harness.requests() if predicate(e)]
        if entries:
            return entries
        time.sleep(0.1)
    return []


class Listener:
    """A TCP port that records whether anybody connected (a redirect target that must stay untouched)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _address = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    target = Listener()
    yield target
    target.close()


# ----- throttling and unavailable services ---------------------------------------------------

@pytest.mark.parametrize('retry_after', ['1', '0.4'])
def test_429_with_integer_or_decimal_retry_after_is_waited_out(harness, retry_after):
    harness.emu.add_fault(dict(match=CANCEL, status=429, retry_after=retry_after))
    run = harness.play([harness.cancel_task()])
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True and run.result()['cancel_in_doubt'] is False
    posts = harness.cancel_posts()
    assert [p['status'] for p in posts] == [429, 202]
    assert posts[1]['ts'] - posts[0]['ts'] >= float(retry_after) * 0.95


def test_429_asking_for_a_wait_over_the_cap_fails_at_once_saying_when(harness):
    harness.emu.add_fault(dict(match=CANCEL, status=429, retry_after='300'))
    run = harness.play([harness.cancel_task()])
    assert run.rc != 0
    result = run.result()
    assert 'asked to wait 300 s' in result['msg'] and 'try again later' in result['msg']
    assert result['changed'] is False and result['status_code'] == 429 and result['cancel_in_doubt'] is False
    assert len(harness.cancel_posts()) == 1


def test_503_forever_fails_after_max_retries_and_was_not_carried_out(harness):
    harness.emu.add_fault(dict(match=CANCEL, status=503, retry_after='0.1', times=0))
    run = harness.play([harness.cancel_task(max_retries=2)])
    assert run.rc != 0
    result = run.result()
    assert result['status_code'] == 503 and result['outcome'] == 'failed' and result['changed'] is False
    assert result['cancel_in_doubt'] is False, 'a 503 means the cancel was not carried out'
    assert 'gave up after 3 attempt(s)' in result['msg']
    assert len(harness.cancel_posts()) == 3
    assert task_workloads(harness) == {'inProgress', 'notStarted'}


def test_504_then_success(harness):
    harness.emu.add_fault(dict(match=CANCEL, status=504, retry_after='0.2'))
    run = harness.play([harness.cancel_task()])
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True and run.result()['outcome'] == 'cancelled'
    assert [p['status'] for p in harness.cancel_posts()] == [504, 202]


def test_504_forever_after_the_cancel_was_carried_out_says_it_may_have_been(harness):
    harness.emu.add_fault(dict(match=CANCEL, action='status_after_work', status=504, retry_after='0.1'))
    harness.emu.add_fault(dict(match=CANCEL, status=504, retry_after='0.1', times=0))
    run = harness.play([harness.cancel_task(max_retries=1)])
    assert run.rc != 0
    result = run.result()
    assert result['cancel_in_doubt'] is True and result['cancel_sent'] is True and result['status_code'] == 504
    assert 'may have been carried out' in result['msg'] and 'crosstenant_migration_task_info' in result['msg']
    assert task_workloads(harness) == {'pendingCancel'}


# ----- lost replies and the evidence rule ----------------------------------------------------

def test_a_lost_reply_whose_retry_meets_a_user_cancelled_long_before_is_a_plain_conflict(harness):
    scenario = base_scenario()
    scenario['jobs'][0]['tasks'][3]['lastUpdatedDateTime'] = '2026-01-01T00:00:00Z'
    harness.emu.reset(scenario)
    harness.emu.add_fault(dict(match=CANCEL, action='drop_after_work'))
    run = harness.play([harness.cancel_task(TASK_CANCELLED, fail_on_conflict=True)])
    assert run.rc == 0, run.output
    result = run.result()
    assert result['changed'] is False and result['conflict_reason'] == 'already_cancelled'
    assert result['cancel_in_doubt'] is False
    assert graph_calls(harness) == [('POST', None), ('POST', 409), ('GET', 200)]


def test_when_the_read_back_fails_the_failure_keeps_the_cancel_facts(harness):
    harness.emu.add_fault(dict(match=CANCEL, action='drop_after_work'))
    harness.emu.add_fault(dict(match=TASK_READ, status=503, retry_after='0.1', times=0))
    run = harness.play([harness.cancel_task(max_retries=1)])
    assert run.rc != 0
    result = run.result()
    assert result['status_code'] == 409 and result['request_id'] and result['error']['code'] == 'Conflict'
    assert result['cancel_sent'] is True and result['cancel_in_doubt'] is True and result['changed'] is False
    assert 'reading the task' in result['msg'] and 'may have cancelled the task' in result['msg']
    assert 'crosstenant_migration_task_info' in result['msg']


def test_connection_refused_sends_nothing_and_is_not_in_doubt(harness):
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))
    port = closed.getsockname()[1]
    closed.close()
    run = harness.play([harness.cancel_task(graph_endpoint='https://127.0.0.1:%d' % port, max_retries=1)])
    assert run.rc != 0
    result = run.result()
    assert 'could not connect to 127.0.0.1:%d' % port in result['msg'] and 'graph_endpoint' in result['msg']
    assert result['cancel_sent'] is False and result['cancel_in_doubt'] is False
    assert result['job_id'] == JOB and result['task_id'] == TASK_ACTIVE


def test_a_read_timeout_on_every_attempt_leaves_the_cancel_in_doubt(harness):
    harness.emu.add_fault(dict(match=CANCEL, action='hang', seconds=3, times=2))
    run = harness.play([harness.cancel_task(timeout=1, max_retries=1)])
    assert run.rc != 0
    result = run.result()
    assert result['cancel_in_doubt'] is True and 'within 1 s' in result['msg']
    assert 'may have been carried out' in result['msg']


# ----- hostile replies ---------------------------------------------------------------------

def test_a_trickling_reply_is_cut_off_at_the_timeout(harness):
    harness.emu.add_fault(dict(match=CANCEL, action='trickle', bytes_per_second=1, seconds=30))
    run = harness.play([harness.cancel_task(timeout=2, max_retries=0)])
    assert run.rc != 0
    result = run.result()
    assert 'no complete reply from 127.0.0.1:%d within 2 s' % harness.emu.port in result['msg']
    assert result['changed'] is False and result['cancel_in_doubt'] is True
    trickled = wait_for_log(harness, lambda e: e.get('fault') and 'trickle' in e['fault'])
    assert trickled and trickled[0]['client_closed'] is True
    assert trickled[0]['duration_ms'] <= 3000 + 1000, 'the client hung up within timeout plus a second'


@pytest.mark.parametrize('chunked', [False, True])
def test_an_oversized_reply_is_refused_without_reading_it(harness, chunked):
    harness.emu.add_fault(dict(match=CANCEL, action='oversized', body_bytes=2 * 1024 ** 3, chunked=chunked))
    run = harness.play([harness.cancel_task(max_retries=0)])
    assert run.rc != 0
    result = run.result()
    assert 'replies over 16777216 bytes are refused' in result['msg'] and result['changed'] is False
    sent = wait_for_log(harness, lambda e: e.get('fault') and 'oversized' in e['fault'])
    assert sent and sent[0]['client_closed'] is True and sent[0]['bytes_sent'] < 64 * 1024 * 1024


@pytest.mark.parametrize('status', [301, 302, 307])
def test_a_redirected_cancel_is_not_followed_and_not_changed(harness, status):
    location = '%s/v1.0/solutions/migrations/crossTenantMigrationJobs/%s/users/%s' % (harness.emu.url, JOB, TASK_ACTIVE)
    harness.emu.add_fault(dict(match=CANCEL, status=status, location=location))
    run = harness.play([harness.cancel_task(max_retries=2)])
    assert run.rc != 0
    result = run.result()
    assert 'HTTP %d, a redirect to 127.0.0.1:%d, which was not followed' % (status, harness.emu.port) in result['msg']
    assert result['changed'] is False and result['cancel_in_doubt'] is False
    assert graph_calls(harness) == [('POST', status)], 'no GET of the redirect target, no retry'
    assert task_workloads(harness) == {'inProgress', 'notStarted'}


@pytest.mark.parametrize('status', [302, 307])
def test_a_redirected_token_request_is_not_followed(harness, listener, status):
    harness.emu.add_fault(dict(match={'kind': 'token'}, status=status, location='http://127.0.0.1:%d/steal' % listener.port))
    run = harness.play([harness.cancel_task()], args=('-vvvv',))
    assert run.rc != 0
    result = run.result()
    assert result['msg'].startswith('Could not get a token from 127.0.0.1:%d' % harness.emu.port)
    assert 'a redirect to 127.0.0.1:%d, which was not followed' % listener.port in result['msg']
    assert listener.connections == 0 and len(harness.requests(kind='token')) == 1
    assert harness.requests(kind='graph') == []


@pytest.mark.parametrize('status, body, content_type', [
    (202, '<html><body>Welcome to the proxy</body></html>', 'text/html'),
    (202, '{"status": "Acc', 'application/json'),
    (200, '[1, 2]', 'application/json'),
])
def test_a_2xx_that_is_not_graphs_reply_fails_and_says_it_may_have_gone_through(harness, status, body, content_type):
    harness.emu.add_fault(dict(match=CANCEL, status=status, body=body, content_type=content_type))
    run = harness.play([harness.cancel_task()])
    assert run.rc != 0
    result = run.result()
    assert result['changed'] is False and result['outcome'] == 'failed' and result['cancel_in_doubt'] is True
    assert 'HTTP %d' % status in result['msg'] and 'crosstenant_migration_task_info' in result['msg']


@pytest.mark.parametrize('status, body', [(400, '<html>Bad gateway config</html>'), (409, '{"error": ')])
def test_a_4xx_that_is_not_graphs_reply_fails_without_doubt(harness, status, body):
    harness.emu.add_fault(dict(match=CANCEL, status=status, body=body, content_type='text/html'))
    run = harness.play([harness.cancel_task()])
    assert run.rc != 0
    result = run.result()
    assert result['outcome'] == 'failed' and result['conflict'] is False and result['cancel_in_doubt'] is False
    assert 'not JSON (text/html)' in result['msg']


# ----- Entra ID ----------------------------------------------------------------------------

@pytest.mark.parametrize('status', [429, 503])
def test_a_throttled_token_endpoint_is_retried(harness, status):
    harness.emu.add_fault(dict(match={'kind': 'token'}, status=status, retry_after='0.3', times=2))
    run = harness.play([harness.cancel_task()])
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True
    assert [e['status'] for e in harness.requests(kind='token')] == [status, status, 200]
    assert sum('to the token request' in w for w in run.result()['warnings']) == 2


def test_a_token_expiring_between_requests_is_replaced(harness):
    harness.emu.add_fault(dict(match=CANCEL, action='expire_tokens'))
    run = harness.play([harness.cancel_task()], args=('--diff',))
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True
    assert [e['status'] for e in harness.cancel_posts()] == [401, 202]
    assert len(harness.requests(kind='token')) == 2


def test_untrusted_tls_names_the_host_and_ca_path(harness):
    run = harness.play([harness.cancel_task(ca_path=None)], env={'REQUESTS_CA_BUNDLE': '', 'CURL_CA_BUNDLE': ''})
    assert run.rc != 0
    msg = run.result()['msg']
    assert 'Could not get a token from 127.0.0.1:%d: the TLS connection' % harness.emu.port in msg
    assert 'certificate verify failed' in msg and 'ca_path' in msg and 'Authentication' not in msg


def test_unknown_tenant_keeps_the_aadsts_code(harness):
    run = harness.play([harness.cancel_task(tenant_id='contoso-missing.onmicrosoft.com')])
    assert run.rc != 0
    result = run.result()
    assert result['error']['code'] == 'AADSTS90002' and result['error']['oauth_error'] == 'invalid_tenant'
    assert 'AADSTS90002' in result['msg'] and result['auth_method'] == 'client_secret'
