# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Large jobs: generated tasks, the wave500 scenario, paging through thousands of tasks, concurrent bulk $batch cancels."""

from __future__ import annotations

import collections
import http.client
import json
import os
import ssl
import subprocess
import sys
import threading
import time

import pytest

from emu_helpers import APP, JOB, JOBS, READ_ROLE, REPO, TASK, TENANT, WRITE_ROLE, CASession, bearer, task_url
from msgraph_emulator import Emulator, ScenarioError
from msgraph_emulator.scenario import DEFAULT_MIX, builtin_scenario_path, generated_task_ids, generated_tasks
from msgraph_emulator.util import parse_datetime

BIG_JOB = 'b1b1b1b1-0000-4000-8000-000000000001'


def big_scenario(count, mix=None, seed=0, **settings):
    data = {'settings': dict({'cancel_delay_seconds': 0.3, 'page_size': 1000}, **settings), 'tenants': [{'id': TENANT}],
            'jobs': [{'id': BIG_JOB, 'tasks': [TASK], 'generate_tasks': {'count': count, 'seed': seed}}]}
    if mix is not None:
        data['jobs'][0]['generate_tasks']['mix'] = mix
    return data


def statuses(emu, task_id, job=BIG_JOB):
    return {w['service']: w['status'] for w in emu.task(job, task_id)['currentStatus']}


def test_generated_tasks_are_deterministic_and_follow_the_mix(tmp_path):
    mix = {'cancellable': 2, 'cancellable_syncing': 1, 'completed': 1, 'mailbox_moved': 1, 'cancelled': 1, 'pending_cancel': 1, 'failed': 1}
    expected = generated_tasks(BIG_JOB, 80, 7, mix)
    assert expected == generated_tasks(BIG_JOB, 80, 7, mix) and expected != generated_tasks(BIG_JOB, 80, 8, mix)
    assert [task_id for task_id, _state in expected] == generated_task_ids(BIG_JOB, 80, 7)
    assert collections.Counter(state for _id, state in expected) == {
        'cancellable': 20, 'cancellable_syncing': 10, 'completed': 10, 'mailbox_moved': 10, 'cancelled': 10, 'pending_cancel': 10, 'failed': 10}
    emu = Emulator(scenario=big_scenario(80, mix, seed=7), ca_file=str(tmp_path / 'ca.pem'))
    loaded = time.time()
    assert emu.task_ids(BIG_JOB) == [TASK] + generated_task_ids(BIG_JOB, 80, 7)
    first = {state: task_id for task_id, state in reversed(expected)}
    assert statuses(emu, first['cancellable']) == {'Exchange': 'inProgress', 'ODSP': 'notStarted', 'Teams': 'notStarted'}
    assert statuses(emu, first['cancellable_syncing']) == {'Exchange': 'syncing', 'ODSP': 'notStarted'}
    assert statuses(emu, first['completed']) == {'Exchange': 'completed', 'ODSP': 'completed', 'Teams': 'completed'}
    assert statuses(emu, first['mailbox_moved']) == {'Exchange': 'completed', 'ODSP': 'inProgress', 'Teams': 'notStarted'}
    assert statuses(emu, first['failed']) == {'Exchange': 'failed', 'ODSP': 'notStarted'}
    assert statuses(emu, first['pending_cancel']) == {'Exchange': 'pendingCancel', 'ODSP': 'pendingCancel', 'Teams': 'pendingCancel'}
    assert statuses(emu, first['cancelled']) == {'Exchange': 'cancelled', 'ODSP': 'cancelled', 'Teams': 'cancelled'}
    cancelled_at = parse_datetime(emu.task(BIG_JOB, first['cancelled'])['lastUpdatedDateTime'], 0)
    assert abs(cancelled_at - (loaded - 3 * 86400)) < 5
    time.sleep(0.4)  # cancel_delay_seconds: pendingCancel from load turns cancelled
    assert set(statuses(emu, first['pending_cancel']).values()) == {'cancelled'}
    with pytest.raises(KeyError):
        emu.task_ids('ffffffff-ffff-4fff-8fff-ffffffffffff')


def test_default_mix(tmp_path):
    emu = Emulator(scenario=big_scenario(1000), ca_file=str(tmp_path / 'ca.pem'))
    counts = collections.Counter(state for _id, state in generated_tasks(BIG_JOB, 1000))
    assert counts == {name: 10 * weight for name, weight in DEFAULT_MIX.items()}
    seen = collections.Counter(statuses(emu, task_id)['Exchange'] for task_id in generated_task_ids(BIG_JOB, 1000))
    assert seen == {'inProgress': 700, 'completed': 150, 'cancelled': 100, 'failed': 50}


@pytest.mark.parametrize('generate', [
    {'count': 20001}, {'count': -1}, {'count': '5'}, {'count': 5, 'mix': {'finished': 1}}, {'count': 5, 'mix': {'cancellable': -1}},
    {'count': 5, 'mix': {'cancellable': 0}}, {'count': 5, 'mix': []}, {'count': 5, 'seed': 1.5}, {'count': 5, 'colour': 'red'},
])
def test_generate_tasks_is_validated(tmp_path, generate):
    data = big_scenario(1)
    data['jobs'][0]['generate_tasks'] = generate
    with pytest.raises(ScenarioError):
        Emulator(scenario=data, ca_file=str(tmp_path / 'ca.pem'))


def test_twenty_thousand_tasks_load_fast_and_page_in_order(emu, http):
    started = time.monotonic()
    emu.reset(big_scenario(20000 - 1))
    assert time.monotonic() - started < 1.5
    token = emu.mint_token(TENANT, APP, [READ_ROLE])
    url, seen, pages = emu.url + JOBS + '/' + BIG_JOB + '/users?$top=999', [], 0
    started = time.monotonic()
    while url:
        body = http.get(url, headers=bearer(token)).json()
        pages += 1
        assert len(body['value']) == 999 or '@odata.nextLink' not in body
        seen.extend(item['id'] for item in body['value'])
        url = body.get('@odata.nextLink')
    assert seen == emu.task_ids(BIG_JOB) and pages == 21
    assert time.monotonic() - started < 10
    emu.reset(big_scenario(5000 - 1, page_size=1000))
    token = emu.mint_token(TENANT, APP, [READ_ROLE])
    first = http.get(emu.url + JOBS + '/' + BIG_JOB + '/users', headers=bearer(token)).json()
    assert len(first['value']) == 1000 and '$top' not in first['@odata.nextLink']


def test_wave500_scenario():
    with Emulator(scenario=builtin_scenario_path('wave500')) as emu:
        ids = emu.task_ids(JOB)
        assert len(ids) == 500 and ids[:3] == ['6a88de8d-7027-44c1-8674-03f826aa1704', '2f6c1b0e-3d4a-4c59-9e21-7b8a90c1d2e3',
                                               '9b3e7d15-8a2c-4f60-b1d4-5c6e7f8091a2']
        assert ids[3:] == generated_task_ids(JOB, 497)
        state = emu.state()
        assert state['settings']['cancel_delay_seconds'] == 2 and len(state['jobs']) == 1
        exchange = collections.Counter(task['currentStatus'][0]['status'] for task in state['jobs'][0]['tasks'])
        assert exchange == {'inProgress': 348 + 1, 'completed': 50 + 25 + 1, 'cancelled': 49 + 1, 'failed': 25}
        token = emu.mint_token(TENANT, APP, [WRITE_ROLE])
        with CASession(emu.ca_file) as http:
            assert http.post(emu.url + task_url(JOB, ids[0]) + '/cancel', headers=bearer(token)).status_code == 202
            assert http.post(emu.url + task_url(JOB, ids[1]) + '/cancel', headers=bearer(token)).status_code == 409


def test_sixteen_concurrent_connections(emu, token):
    emu.add_fault({'match': {'method': 'GET'}, 'latency_ms': 500, 'times': 0})
    barrier = threading.Barrier(16)
    results = []

    def client():
        with CASession(emu.ca_file) as http:
            barrier.wait()
            results.append(http.get(emu.url + JOBS, headers=bearer(token)).status_code)

    threads = [threading.Thread(target=client) for _index in range(16)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == [200] * 16
    assert time.monotonic() - started < 2.5  # 16 x 0.5 s one after the other would be 8 s


@pytest.mark.skipif(not os.path.exists('/proc/self/stat'), reason='reads the emulator process CPU time from /proc')
def test_bulk_batch_cancels_cost_little_emulator_cpu(tmp_path):
    """5000 cancels in 250 $batch requests of 20 from 4 client threads: the emulator process spends little CPU on them."""
    count = 5000
    (tmp_path / 'big.json').write_text(json.dumps(big_scenario(count - 1, mix={'cancellable': 1}, cancel_delay_seconds=60)))
    ready = tmp_path / 'ready.json'
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, 'emulator'), PYTHONDONTWRITEBYTECODE='1')
    cmd = [sys.executable, '-m', 'msgraph_emulator', '--scenario', str(tmp_path / 'big.json'), '--ca-file', str(tmp_path / 'ca.pem'),
           '--request-log', str(tmp_path / 'log.jsonl'), '--ready-file', str(ready), '--max-seconds', '120']
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)  # pylint: disable=consider-using-with
    try:
        deadline = time.monotonic() + 15
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        context = ssl.create_default_context(cafile=info['ca_file'])

        def cpu_seconds():
            with open('/proc/%d/stat' % proc.pid, encoding='ascii') as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')  # utime + stime

        conn = http.client.HTTPSConnection('127.0.0.1', info['port'], context=context, timeout=30)
        conn.request('POST', '/_emulator/tokens', body=json.dumps({'tenant_id': TENANT, 'roles': [WRITE_ROLE]}))
        token = json.loads(conn.getresponse().read())['access_token']
        ids = [TASK] + generated_task_ids(BIG_JOB, count - 1)
        pending = [ids[i:i + 20] for i in range(0, count, 20)]
        lock, answers = threading.Lock(), []

        def client():
            conn = http.client.HTTPSConnection('127.0.0.1', info['port'], context=context, timeout=30)
            while True:
                with lock:
                    if not pending:
                        return
                    chunk = pending.pop()
                subs = [{'id': str(i), 'method': 'POST', 'url': '/solutions/migrations/crossTenantMigrationJobs/%s/users/%s/cancel' % (BIG_JOB, t)}
                        for i, t in enumerate(chunk)]
                conn.request('POST', '/v1.0/$batch', body=json.dumps({'requests': subs}),
                             headers={'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})
                body = json.loads(conn.getresponse().read())
                with lock:
                    answers.extend(item['status'] for item in body['responses'])

        before = cpu_seconds()
        threads = [threading.Thread(target=client) for _index in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        spent = cpu_seconds() - before
        assert answers == [202] * count
        assert spent < 6.0, 'the emulator spent %.2f s of CPU on 5000 batched cancels' % spent
        lines = (tmp_path / 'log.jsonl').read_text().splitlines()
        envelopes = [json.loads(line) for line in lines if '"kind":"batch"' in line]
        assert len(lines) == count + 250 and len(envelopes) == 250 and {e['batch_size'] for e in envelopes} == {20}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
