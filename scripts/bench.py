# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""`make bench`: whole-process wall times of real ansible-playbook runs against the emulator
with a simulated 50 ms round trip, each compared with a baseline measured side by side in the
same session (interleaved runs, medians). Prints a table and writes build/bench/results.json.

This is a benchmark, not a test: it reports ratios against their targets and never fails on
them (it fails only when a run itself fails).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Callable, Optional

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'emulator'))

from msgraph_emulator import Emulator  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)
TENANT = '00000000-0000-4000-8000-0000000000aa'
APP = '11111111-1111-4111-8111-111111111111'
SECRET = 'bench-Client-Secret-5Tz8'
JOB = 'add14989-2b21-4001-81bd-a18b0bac1dea'
LATENCY_MS = 50
RTT = LATENCY_MS / 1000.0

# A Python that runs the module and records its peak RSS (KiB) in $BENCH_RSS_FILE.
RSS_WRAPPER = '''#!%s
import os, resource, subprocess, sys
code = subprocess.call([%r] + sys.argv[1:])
with open(os.environ['BENCH_RSS_FILE'], 'a') as handle:
    handle.write('%%d\\n' %% resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
''' % (sys.executable, sys.executable)


def users(count: int, seed: str = 'bench') -> list[str]:
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, '%s-%d' % (seed, index))) for index in range(count)]


def scenario(user_ids: list[str]) -> dict[str, Any]:
    return {
        'settings': {'cancel_delay_seconds': 600, 'page_size': 999},
        'tenants': [{'id': TENANT, 'apps': [{'client_id': APP, 'secret': SECRET, 'roles': ['CrossTenantContentMigration.ReadWrite.All']}]}],
        'jobs': [{'id': JOB, 'status': 'inProgress', 'tasks': [{'id': user, 'workloads': {'Exchange': 'inProgress', 'ODSP': 'notStarted'}}
                                                               for user in user_ids]}],
    }


class Bench:
    def __init__(self, work: str, repeat: int) -> None:
        self.work = work
        self.repeat = repeat
        self.emu = Emulator(scenario=scenario(users(1)), ca_file=os.path.join(work, 'ca.pem'), latency_ms=LATENCY_MS)
        self.runs = 0
        self.wrapper = os.path.join(work, 'python-rss')
        with open(self.wrapper, 'w', encoding='utf-8') as handle:
            handle.write(RSS_WRAPPER)
        os.chmod(self.wrapper, 0o755)

    def connection(self) -> dict[str, Any]:
        return {'graph_endpoint': self.emu.url, 'authority_host': self.emu.url, 'ca_path': self.emu.ca_file,
                'tenant_id': TENANT, 'client_id': APP, 'client_secret': '{{ bench_secret }}'}

    def play(self, tasks: list[dict[str, Any]], hosts: int = 1, forks: int = 1, user_ids: Optional[list[str]] = None,
             rss: bool = False) -> tuple[float, Optional[int]]:
        """Run a fresh playbook (cold: empty token cache); return (wall seconds, module peak RSS KiB)."""
        self.runs += 1
        run_dir = os.path.join(self.work, 'run%d' % self.runs)
        os.makedirs(run_dir)
        with open(os.path.join(run_dir, 'hosts.ini'), 'w', encoding='utf-8') as handle:
            handle.write('[bench]\n' + ''.join('h%d ansible_connection=local\n' % i for i in range(hosts)))
        with open(os.path.join(run_dir, 'vars.yml'), 'w', encoding='utf-8') as handle:
            yaml.safe_dump({'bench_secret': SECRET, 'users': user_ids or []}, handle)
        with open(os.path.join(run_dir, 'play.yml'), 'w', encoding='utf-8') as handle:
            yaml.safe_dump([{'name': 'Bench', 'hosts': 'bench', 'gather_facts': False, 'tasks': tasks}], handle, sort_keys=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith(('AZURE_', 'ANSIBLE_'))}
        env.update(ANSIBLE_HOME=os.path.join(run_dir, 'ansible-home'), XDG_CACHE_HOME=os.path.join(run_dir, 'cache'),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, 'build', 'collections'), ANSIBLE_LOCALHOST_WARNING='False',
                   ANSIBLE_PYTHON_INTERPRETER=self.wrapper if rss else sys.executable, ANSIBLE_FORKS=str(forks),
                   ANSIBLE_NOCOLOR='1', BENCH_RSS_FILE=os.path.join(run_dir, 'rss'), PYTHONDONTWRITEBYTECODE='1')
        start = time.perf_counter()
        proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'hosts.ini', '-e', '@vars.yml', 'play.yml'], cwd=run_dir,
                              env=env, capture_output=True, text=True, timeout=3600, check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit('bench run %d failed:\n%s%s' % (self.runs, proc.stdout[-3000:], proc.stderr[-3000:]))
        peak = None
        if rss and os.path.exists(env['BENCH_RSS_FILE']):
            with open(env['BENCH_RSS_FILE'], encoding='utf-8') as handle:
                peak = max(int(line) for line in handle if line.strip())
        return elapsed, peak

    def measure(self, variants: dict[str, Callable[[], float]], repeat: Optional[int] = None) -> dict[str, float]:
        """Run the variants interleaved ``repeat`` times; return the median wall time of each."""
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _round in range(repeat or self.repeat):
            for name, run in variants.items():
                times[name].append(run())
        return {name: statistics.median(values) for name, values in times.items()}


def empty_task() -> dict[str, Any]:
    return {'name': 'Empty', 'ansible.builtin.ping': {}}


def cancel_one(bench: Bench, task_id: str) -> dict[str, Any]:
    args = bench.connection()
    args.update(job_id=JOB, task_id=task_id)
    return {'name': 'Cancel', 'msgraph.migrations.crosstenant_migration_task_cancel': args}


def diy_tasks(bench: Bench, loop: Optional[str] = None) -> list[dict[str, Any]]:
    """The do-it-yourself play: ansible.builtin.uri for the token (no_log) and for each cancel."""
    cancel: dict[str, Any] = {'name': 'Cancel', 'ansible.builtin.uri': {
        'url': '%s/v1.0/solutions/migrations/crossTenantMigrationJobs/%s/users/{{ %s }}/cancel' % (bench.emu.url, JOB, loop or 'users[0]'),
        'method': 'POST', 'headers': {'Authorization': 'Bearer {{ token.json.access_token }}'}, 'status_code': [202, 409],
        'ca_path': bench.emu.ca_file}}
    if loop:
        cancel['loop'] = '{{ users }}'
    return [{'name': 'Token', 'no_log': True, 'register': 'token', 'ansible.builtin.uri': {
        'url': '%s/%s/oauth2/v2.0/token' % (bench.emu.url, TENANT), 'method': 'POST', 'body_format': 'form-urlencoded',
        'body': {'client_id': APP, 'client_secret': '{{ bench_secret }}', 'grant_type': 'client_credentials',
                 'scope': '%s/.default' % bench.emu.url}, 'ca_path': bench.emu.ca_file}}, cancel]


def import_seconds(repeat: int) -> float:
    """Median wall time of importing msal and requests, less a bare interpreter start."""
    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, '-c', code], check=True)
        return time.perf_counter() - start
    bare, loaded = [], []
    for _round in range(max(5, repeat)):
        bare.append(run('pass'))
        loaded.append(run('import msal, requests'))
    return max(0.0, statistics.median(loaded) - statistics.median(bare))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=int(os.environ.get('BENCH_REPEAT', '5')), help='runs per short variant (median)')
    parser.add_argument('--long-repeat', type=int, default=int(os.environ.get('BENCH_LONG_REPEAT', '1')),
                        help='runs per 500-user loop variant (each takes minutes)')
    parser.add_argument('--output', default=os.path.join(REPO, 'build', 'bench', 'results.json'))
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='msgraph-bench-')
    bench = Bench(work, args.repeat)
    rows: list[dict[str, Any]] = []

    def row(work_done: str, value: Any, compared: str, target: str, ok: bool, **detail: Any) -> None:
        rows.append(dict(work=work_done, value=value, compared_with=compared, target=target, met=ok, **detail))
        print('  %-58s %-14s %s' % (work_done, value, 'met' if ok else 'NOT MET (target %s)' % target), flush=True)

    with bench.emu:
        one = users(1)

        def cold_one(tasks_of: Callable[[], list[dict[str, Any]]]) -> Callable[[], float]:
            def run() -> float:
                bench.emu.reset(scenario(one))
                return bench.play(tasks_of(), user_ids=one)[0]
            return run

        print('== cancel 1 user, cold (%d interleaved runs each, medians)' % args.repeat, flush=True)
        single = bench.measure({'empty': cold_one(lambda: [empty_task()]),
                                'module': cold_one(lambda: [cancel_one(bench, one[0])]),
                                'diy': cold_one(lambda: diy_tasks(bench))})
        imports = import_seconds(args.repeat)
        module_extra = single['module'] - single['empty']
        diy_extra = single['diy'] - single['empty']
        ratio = module_extra / diy_extra if diy_extra > 0 else math.inf
        row('cancel 1 user, cold: play less an empty play', '%.2f' % ratio, 'the do-it-yourself uri play, the same way', '<= 0.65',
            ratio <= 0.65, module_s=round(single['module'], 3), diy_s=round(single['diy'], 3), empty_s=round(single['empty'], 3))
        floor = single['empty'] + imports + 3 * RTT
        ratio = single['module'] / floor
        row('cancel 1 user, cold', '%.2fx' % ratio, 'empty play + import msal, requests + 3 round trips', '<= 1.1x', ratio <= 1.1,
            floor_s=round(floor, 3), import_s=round(imports, 3))

        print('== cancel 500 users of one job (%d run(s) of each loop)' % args.long_repeat, flush=True)
        wave = users(500)

        def cold_wave(tasks_of: Callable[[], list[dict[str, Any]]]) -> Callable[[], float]:
            def run() -> float:
                bench.emu.reset(scenario(wave))
                return bench.play(tasks_of(), user_ids=wave)[0]
            return run

        def bulk_tasks() -> list[dict[str, Any]]:
            args_ = bench.connection()
            args_.update(job_id=JOB, task_ids='{{ users }}')
            return [{'name': 'Cancel the wave', 'msgraph.migrations.crosstenant_migration_task_cancel': args_}]

        def looped_tasks() -> list[dict[str, Any]]:
            task = cancel_one(bench, '{{ item }}')
            task['loop'] = '{{ users }}'
            return [task]

        bulk = bench.measure({'empty': cold_wave(lambda: [empty_task()]), 'bulk': cold_wave(bulk_tasks)})
        loops = bench.measure({'diy': cold_wave(lambda: diy_tasks(bench, loop='item')), 'looped': cold_wave(looped_tasks)},
                              repeat=args.long_repeat)
        row('cancel 500 users: one bulk task', '%.0fx faster' % (loops['diy'] / bulk['bulk']), 'do-it-yourself uri loop (one token)',
            '>= 50x', loops['diy'] / bulk['bulk'] >= 50, bulk_s=round(bulk['bulk'], 3), diy_loop_s=round(loops['diy'], 3))
        row('cancel 500 users: one bulk task', '%.0fx faster' % (loops['looped'] / bulk['bulk']), 'the module looped per user', '>= 50x',
            loops['looped'] / bulk['bulk'] >= 50, module_loop_s=round(loops['looped'], 3))
        floor = bulk['empty'] + 2 * RTT + math.ceil(500 / 20) / 4 * RTT
        row('bulk 500 users', '%.2fx' % (bulk['bulk'] / floor), 'empty play + 2 token + ceil(500/20)/4 batch round trips', '<= 1.5x',
            bulk['bulk'] / floor <= 1.5, floor_s=round(floor, 3))

        print('== token requests, 200-user loop, forks 10', flush=True)
        loop200 = users(200, 'loop200')
        bench.emu.reset(scenario(loop200))
        task = cancel_one(bench, '{{ item }}')
        task['loop'] = "{{ users[groups['bench'].index(inventory_hostname)::10] }}"
        seconds, _rss = bench.play([task], hosts=10, forks=10, user_ids=loop200)
        tokens = len([e for e in bench.emu.requests() if e['kind'] == 'token'])
        row('token requests, 200-user loop, forks 10', tokens, '', '1', tokens == 1, seconds=round(seconds, 3))

        print('== bulk 5,000 users, 20% of sub-requests throttled', flush=True)
        big = users(5000, 'big')
        bench.emu.reset(scenario(big))
        bench.emu.add_fault({'match': {'in_batch': True, 'path': '/cancel$'}, 'status': 429, 'retry_after': '0.1', 'times': 0,
                             'probability': 0.2, 'seed': 5000})
        args_ = bench.connection()
        args_.update(job_id=JOB, task_ids='{{ users }}')
        seconds, rss = bench.play([{'name': 'Cancel 5000', 'msgraph.migrations.crosstenant_migration_task_cancel': args_}],
                                  user_ids=big, rss=True)
        log = bench.emu.requests()
        accepted = [e['batch_request_id'] for e in log if e.get('batch_request_id') and e['status'] == 202]
        throttled = len([e for e in log if e.get('batch_request_id') and e['status'] == 429])
        envelopes = len([e for e in log if e['kind'] == 'batch'])
        once = sorted(accepted) == sorted(big)
        allowed = 1.5 * (math.ceil(5000 / 20) + math.ceil(throttled / 20))
        row('bulk 5,000 users, 20% throttled: each cancelled once', 'yes' if once else 'no', '', 'every user once, none twice', once,
            seconds=round(seconds, 3), peak_rss_kib=rss)
        row('bulk 5,000 users, 20% throttled: $batch round trips', envelopes, '1.5 x (250 + ceil(throttled/20))', '<= %d' % allowed,
            envelopes <= allowed, throttled_sub_requests=throttled, peak_rss_mib=round((rss or 0) / 1024, 1))

    machine = {'python': platform.python_version(), 'platform': platform.platform(), 'cpus': os.cpu_count(),
               'processor': platform.processor() or platform.machine(), 'date': time.strftime('%Y-%m-%d')}
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, 'w', encoding='utf-8') as handle:
        json.dump({'machine': machine, 'latency_ms': LATENCY_MS, 'repeat': args.repeat, 'rows': rows}, handle, indent=2)
    print('\n| work | result | compared with | target | met |\n|---|---|---|---|---|')
    for item in rows:
        print('| %s | %s | %s | %s | %s |' % (item['work'], item['value'], item['compared_with'], item['target'], 'yes' if item['met'] else 'no'))
    print('\nMachine: %(platform)s, %(cpus)s CPUs, Python %(python)s, %(date)s. Written to ' % machine + args.output)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
