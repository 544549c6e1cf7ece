# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Command line: python -m msgraph_emulator --ca-file PATH [--scenario FILE] [--port 0] [--request-log PATH] [--ready-file PATH]
[-- COMMAND ARGS...]: serve until signalled, or for as long as COMMAND runs."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Optional

from .faults import FaultError
from .server import Emulator, loopback_host
from .scenario import ScenarioError
from .tls import write_atomic


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python -m msgraph_emulator',
                                     description='Local HTTPS emulator of Microsoft Graph cross-tenant migration, Entra ID tokens and managed identity.')
    parser.add_argument('--scenario', help='scenario file (YAML or JSON); default: the built-in scenario')
    parser.add_argument('--ca-file', required=True, help='where to write the CA certificate (PEM) that clients must trust')
    parser.add_argument('--host', default='127.0.0.1', help='loopback address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=0, help='port (default 0: any free port)')
    parser.add_argument('--request-log', help='append one JSON line per request to this file')
    parser.add_argument('--ready-file', help='write {url, port, pid, ca_file} as JSON here once listening')
    parser.add_argument('--latency-ms', type=float, default=0, help="delay added to every reply (overrides the scenario's)")
    parser.add_argument('--max-seconds', type=float, default=0, help='stop by itself after this many seconds (default 0: run until signalled)')
    parser.add_argument('command', nargs=argparse.REMAINDER,
                        help='after --: run this command with MSGRAPH_EMULATOR_URL, MSGRAPH_EMULATOR_CA_FILE (and MSGRAPH_EMULATOR_REQUEST_LOG) '
                             'in its environment, then stop and exit with its status')
    return parser


def _run_command(command: list[str], emulator: Emulator, stop: threading.Event, deadline: Optional[float]) -> int:
    """Run ``command`` against the running emulator; stop it (TERM, then KILL) on a signal or at the deadline."""
    env = dict(os.environ, MSGRAPH_EMULATOR_URL=emulator.url, MSGRAPH_EMULATOR_CA_FILE=emulator.ca_file)
    if emulator.request_log_path:
        env['MSGRAPH_EMULATOR_REQUEST_LOG'] = emulator.request_log_path
    try:
        child = subprocess.Popen(command, env=env)  # pylint: disable=consider-using-with
    except OSError as exc:
        print('msgraph-emulator: cannot run %s: %s' % (command[0], exc.strerror), file=sys.stderr, flush=True)
        return 127
    while child.poll() is None:
        if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            print('msgraph-emulator: stopped %s before it finished' % command[0], file=sys.stderr, flush=True)
            return 124
        stop.wait(0.1)
    return child.returncode


def main(argv: Optional[list[str]] = None) -> int:
    """Run until SIGTERM or SIGINT; exit 0 on a clean stop, 2 on a usage or scenario error."""
    args = _parser().parse_args(argv)
    try:
        loopback_host(args.host)
        emulator = Emulator(scenario=args.scenario, ca_file=args.ca_file, request_log=args.request_log, host=args.host, port=args.port,
                            latency_ms=args.latency_ms)
    except (ScenarioError, FaultError, ValueError) as exc:
        print('msgraph-emulator: %s' % exc, file=sys.stderr, flush=True)
        return 2
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        emulator.start()
    except OSError as exc:
        print('msgraph-emulator: cannot listen on %s:%s: %s' % (args.host, args.port, exc.strerror), file=sys.stderr, flush=True)
        return 2
    try:
        print('msgraph-emulator listening on %s (CA: %s)' % (emulator.url, emulator.ca_file), flush=True)
        if args.ready_file:
            ready = {'url': emulator.url, 'port': emulator.port, 'pid': os.getpid(), 'ca_file': emulator.ca_file}
            write_atomic(args.ready_file, (json.dumps(ready) + '\n').encode('utf-8'))
        deadline = time.monotonic() + args.max_seconds if args.max_seconds > 0 else None
        command = args.command[1:] if args.command[:1] == ['--'] else args.command
        if command:
            return _run_command(command, emulator, stop, deadline)
        while not stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            stop.wait(0.5)
    finally:
        emulator.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
