# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTTPS server, the request dispatcher (fault rules, handlers, request log) and the Emulator's public control methods."""

from __future__ import annotations

import functools
import ipaddress
import os
import selectors
import shutil
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qs, unquote, urlsplit

from . import admin, batch, entra, graph, tls
from .faults import FaultRule, FaultSet
from .reqlog import RequestLog
from .replies import fault_reply, rewrite_reply
from .scenario import read_scenario
from .state import State
from .util import PLAIN_JSON, Request, Response, Stream, auth_scheme, graph_error, new_guid, safe_query

MAX_BODY_BYTES = 16 * 1024 * 1024
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 60.0
# How long stop() waits for open connections' handlers to finish.
STOP_TIMEOUT = 5.0
# How often a paused stream looks at its socket and at the stop flag.
_POLL_SECONDS = 0.05


def loopback_host(host: str) -> str:
    """The address to bind for host, which must be a loopback address (or localhost)."""
    if host == 'localhost':
        return '127.0.0.1'
    try:
        address = ipaddress.ip_address(host.strip('[]'))
    except ValueError as exc:
        raise ValueError('refusing to listen on %r: only loopback addresses are allowed' % host) from exc
    if not address.is_loopback:
        raise ValueError('refusing to listen on %r: only loopback addresses are allowed' % host)
    return str(address)


def classify(path: str) -> tuple[str, Optional[str]]:
    """(kind, api_version) of a request path: admin, graph, batch, token, oidc or msi."""
    segments = [unquote(seg) for seg in path.split('/')[1:]]
    low = [seg.lower() for seg in segments]
    if low and low[0] == '_emulator':
        return 'admin', None
    if low == ['msi', 'token']:
        return 'msi', None
    if low and low[0] in ('v1.0', 'beta'):
        if low[1:] == ['$batch']:
            return 'batch', low[0]
        return 'graph', low[0]
    if len(low) == 4 and low[1:] in (['v2.0', '.well-known', 'openid-configuration'], ['discovery', 'v2.0', 'keys']):
        return 'oidc', None
    if len(low) == 3 and low[1:] == ['.well-known', 'openid-configuration']:
        return 'oidc', None
    if len(low) == 4 and low[1:] == ['oauth2', 'v2.0', 'token']:
        return 'token', None
    return 'graph', None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, emulator: Emulator, stopping: threading.Event):
        self.address_family = socket.AF_INET6 if ':' in address[0] else socket.AF_INET
        self.ssl_context = context
        self.emulator = emulator
        self.stopping = stopping
        self.connections: set[ssl.SSLSocket] = set()
        self.connections_lock = threading.Condition()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can be slow; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = self.server_address[1]

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with self.connections_lock:
            self.connections.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except (ssl.SSLError, OSError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass
            with self.connections_lock:
                self.connections.discard(conn)
                self.connections_lock.notify_all()

    def close_all_connections(self) -> None:
        """Shut every open keep-alive connection down so that handler threads end."""
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass

    def wait_for_connections(self, timeout: float) -> bool:
        """Wait until every connection's handler has finished (streams have logged their end); False on timeout.

        The handler threads are daemon threads, which server_close() does not join."""
        with self.connections_lock:
            return self.connections_lock.wait_for(lambda: not self.connections, timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'msgraph-emulator'
    sys_version = ''
    timeout = IDLE_TIMEOUT
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        """Silence the default per-request stderr line (the request log has everything)."""

    def version_string(self) -> str:
        return self.server_version

    def _read_body(self) -> bytes:
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            chunks: list[bytes] = []
            total = 0
            for _unused in range(100000):
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b';', 1)[0].strip() or b'0', 16)
                if size == 0:
                    for _trailer in range(100):
                        if self.rfile.readline(8192) in (b'\r\n', b'\n', b''):
                            break
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    raise ValueError('body too large')
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
            return b''.join(chunks)
        length = self.headers.get('Content-Length')
        if not length:
            return b''
        count = int(length)
        if count < 0 or count > MAX_BODY_BYTES:
            raise ValueError('bad Content-Length')
        return self.rfile.read(count)

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self.send_error(400, 'Bad request body')
            return
        raw_headers = list(self.headers.items())
        headers = {key.lower(): value for key, value in raw_headers}
        resp = self.server.emulator.handle_http(self.command, self.path, headers, body, self.client_address[0], raw_headers=raw_headers,
                                                http_version=self.request_version)
        if resp.drop:
            self.close_connection = True
            try:
                socket.socket.shutdown(self.connection, socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(resp.status)
        for key, value in resp.headers.items():
            self.send_header(key, value)
        if resp.stream is not None:
            self._send_stream(resp.stream)
            return
        self.send_header('Content-Length', str(len(resp.body)))
        # Headers and body in one write: one TLS record, no Nagle/delayed-ACK stall.
        self._headers_buffer.append(b'\r\n')  # type: ignore[attr-defined]
        if self.command != 'HEAD' and resp.body:
            self._headers_buffer.append(resp.body)  # type: ignore[attr-defined]
        self.flush_headers()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _send_stream(self, stream: Stream) -> None:
        """Finish the head, then write the body chunk by chunk with the stream's pacing; always report how it ended."""
        chunked = stream.length is None
        self.send_header('Transfer-Encoding' if chunked else 'Content-Length', 'chunked' if chunked else str(stream.length))
        started = time.monotonic()
        sent, client_closed, complete = 0, False, False
        try:
            self.end_headers()
            if self.command == 'HEAD':
                complete = True
            else:
                for index, chunk in enumerate(stream.chunks):
                    if index and stream.interval > 0:
                        pause = self._pause(stream.interval)
                        if pause != 'ok':
                            client_closed = pause == 'closed'
                            break
                    if self.server.stopping.is_set():
                        break
                    if stream.max_seconds is not None and time.monotonic() - started >= stream.max_seconds:
                        break
                    self.wfile.write(b'%x\r\n%s\r\n' % (len(chunk), chunk) if chunked else chunk)
                    sent += len(chunk)
                else:
                    if chunked:
                        self.wfile.write(b'0\r\n\r\n')
                    complete = True
        except OSError:  # includes ssl.SSLError and timeouts: the client is gone or stopped reading (or stop() shut the socket)
            client_closed = not self.server.stopping.is_set()
        finally:
            if not complete:
                # The body is cut short: the connection cannot carry another request.
                self.close_connection = True
            if stream.on_end is not None:
                stream.on_end(sent, client_closed)

    def _pause(self, seconds: float) -> str:
        """Wait between two chunks: 'ok', or 'closed' as soon as the client goes away, or 'stopping'."""
        deadline = time.monotonic() + seconds
        watch = True
        with selectors.DefaultSelector() as selector:  # not select.select: descriptors above 1023 must work too
            selector.register(self.connection, selectors.EVENT_READ)
            while not self.server.stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return 'ok'
                step = min(remaining, _POLL_SECONDS)
                if not watch:
                    self.server.stopping.wait(step)
                    continue
                if selector.select(step):
                    seen = self._peek()
                    if seen == 'closed':
                        # stop() shuts sockets down too: that is the emulator stopping, not the client leaving.
                        return 'stopping' if self.server.stopping.is_set() else 'closed'
                    # Bytes from the client (a pipelined request, a TLS alert): stop watching, let a failed write tell.
                    watch = seen != 'data'
        return 'stopping'

    def _peek(self) -> str:
        """Look at the raw socket without reading: 'closed' (EOF or reset), 'data' or 'none'."""
        try:
            data = socket.socket.recv(self.connection, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return 'none'
        except OSError:
            return 'closed'
        return 'data' if data else 'closed'


class Emulator:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """A local HTTPS emulator of Graph's cross-tenant migration API, Entra ID's token endpoint and App Service managed identity."""

    def __init__(self, scenario: Any = None, ca_file: Optional[str] = None, request_log: Optional[str] = None, host: str = '127.0.0.1',
                 port: int = 0, latency_ms: float = 0):
        self.host = loopback_host(host)
        self._requested_port = int(port)
        self.port: Optional[int] = None
        self._tempdir: Optional[str] = None
        if ca_file is None:
            self._tempdir = tempfile.mkdtemp(prefix='msgraph-emulator-')
            ca_file = os.path.join(self._tempdir, 'ca.pem')
        self.ca_file = os.path.abspath(os.fspath(ca_file))
        self.ca_pem: Optional[bytes] = None
        self.request_log_path = os.path.abspath(os.fspath(request_log)) if request_log else None
        self._log = RequestLog(self.request_log_path)
        if isinstance(latency_ms, bool) or not isinstance(latency_ms, (int, float)) or not 0 <= latency_ms <= 60000:
            raise ValueError('latency_ms must be a number from 0 to 60000')
        self.latency_ms = float(latency_ms)
        self._faults = FaultSet()
        self._state = self._build_state(scenario)
        self._stop_event = threading.Event()
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    # ----- lifecycle -----------------------------------------------------------------------

    def _build_state(self, scenario: Any) -> State:
        """A fresh state from a scenario; the scenario's fault rules replace the current ones (all validated first)."""
        state = State(read_scenario(scenario))
        self._faults.replace(state.fault_specs)
        return state

    def start(self) -> Emulator:
        """Generate the certificates, write the CA file and start serving in a daemon thread."""
        if self._server is not None:
            raise RuntimeError('the emulator is already running')
        context, self.ca_pem = tls.server_context(self.ca_file)
        self._log.reopen()
        self._stop_event.clear()
        self._server = _Server((self.host, self._requested_port), context, self, self._stop_event)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05}, name='msgraph-emulator', daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections (ending hangs and streams) and the request log file."""
        self._stop_event.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            # Again and again: a connection whose handshake was under way joins the set late.
            deadline = time.monotonic() + STOP_TIMEOUT
            server.close_all_connections()
            while not server.wait_for_connections(0.1) and time.monotonic() < deadline:
                server.close_all_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._log.close()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The root URL, e.g. https://127.0.0.1:PORT."""
        if self.port is None:
            raise RuntimeError('the emulator is not running')
        host = '[%s]' % self.host if ':' in self.host else self.host
        return 'https://%s:%d' % (host, self.port)

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    # ----- control -------------------------------------------------------------------------

    def reset(self, scenario: Any = None) -> None:
        """Replace all state with a scenario (None: the built-in one), clear the faults, empty the request log."""
        self._state = self._build_state(scenario)
        self._log.truncate()

    def add_fault(self, rule: Any) -> list[str]:
        """Add a fault rule (or a list of them); return their descriptions."""
        return [added.describe() for added in self._faults.add(rule)]

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules with their counters."""
        return self._faults.summaries()

    def requests(self) -> list[dict[str, Any]]:
        """The request log entries since the last reset."""
        return self._log.entries()

    def clear_requests(self) -> None:
        """Empty the request log (memory and file)."""
        self._log.truncate()

    def mint_token(self, tenant_id: str, client_id: str, roles: list[str], expires_in: int = 3600) -> str:
        """An access token the Graph endpoints accept, without going through the token endpoint."""
        return self._state.issue_token(tenant_id, client_id, list(roles or []), int(expires_in), 'minted', None)

    def expire_tokens(self) -> int:
        """Make every token issued so far expired."""
        return self._state.expire_tokens()

    def issued_tokens(self) -> list[str]:
        """Every access token issued (or minted) since the last reset, for secret-hygiene checks."""
        state = self._state
        with state.lock:
            return list(state.tokens)

    def default_tenant_id(self) -> Optional[str]:
        """The scenario's first tenant (the default targetTenantId), or None."""
        return self._state.default_tenant_id()

    def task(self, job_id: str, task_id: str) -> dict[str, Any]:
        """The task as Graph shows it now (KeyError when unknown)."""
        state = self._state
        with state.lock:
            task = state.find_task(job_id, task_id)
            if task is None:
                raise KeyError('no task %s in job %s' % (task_id, job_id))
            return task.as_graph()

    def task_ids(self, job_id: str) -> list[str]:
        """The ids of every task of a job, in order (KeyError when the job is unknown)."""
        state = self._state
        with state.lock:
            job = state.find_job(job_id)
            if job is None:
                raise KeyError('no job %s' % job_id)
            return [task.id for task in job.tasks.values()]

    def job(self, job_id: str) -> dict[str, Any]:
        """The job as Graph shows it now (KeyError when unknown)."""
        state = self._state
        with state.lock:
            job = state.find_job(job_id)
            if job is None:
                raise KeyError('no job %s' % job_id)
            return job.as_graph()

    def state(self) -> dict[str, Any]:
        """Jobs with their tasks, settings and fault counters."""
        view = self._state.snapshot()
        view['faults'] = self._faults.summaries()
        return view

    # ----- dispatch ------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        # Waiting on the stop flag lets stop() end a hang or a slow reply at once.
        if seconds > 0:
            self._stop_event.wait(seconds)

    def _root(self, host_header: Optional[str]) -> str:
        port = self.port
        if host_header:
            host = host_header.strip().lower()
            if host in ('127.0.0.1:%s' % port, 'localhost:%s' % port, '[::1]:%s' % port):
                return 'https://' + host
        return self.url

    def handle_http(self, method: str, target: str, headers: dict[str, str], body: bytes, client: str,  # pylint: disable=too-many-arguments
                    raw_headers: Optional[list[tuple[str, str]]] = None, http_version: str = 'HTTP/1.1') -> Response:
        """Answer one HTTP request (headers with lower-case names; raw_headers as received, for the echo fault)."""
        parts = urlsplit(target)
        path = parts.path or '/'
        query = parse_qs(parts.query, keep_blank_values=True)
        kind, version = classify(path)
        if kind == 'admin':
            return admin.handle(self, method, path, body, client)
        req = Request(method=method.upper(), path=path, query=query, headers=headers, body=body, root=self._root(headers.get('host')), kind=kind,
                      api_version=version, client_request_id=headers.get('client-request-id') or new_guid(), client_address=client,
                      target=target, http_version=http_version, raw_headers=raw_headers)
        state = self._state
        latency = self.latency_ms or float(state.settings.get('latency_ms') or 0)
        self._sleep(latency / 1000.0)
        return self._process(req, state)

    def _process(self, req: Request, state: State) -> Response:
        """Fault rules, then the handler; finish the reply and log it (a streamed reply is logged when it ends)."""
        rule = self._faults.select(req)
        resp = self._handle(state, req) if rule is None else self._apply_fault(rule, state, req)
        self._finish(req, resp)
        if resp.stream is not None:
            resp.stream.on_end = functools.partial(self._stream_ended, state, req, resp)
        else:
            self._write_log(state, req, resp)
        return resp

    def _apply_fault(self, rule: FaultRule, state: State, req: Request) -> Response:
        description = rule.describe()
        if rule.latency_ms:
            self._sleep(rule.latency_ms / 1000.0)
        if rule.action == 'hang':
            self._sleep(rule.seconds)
        if rule.action == 'expire_tokens':
            state.expire_tokens()
        if rule.action == 'drop':
            resp = Response(status=0, drop=True)
        elif rule.action == 'drop_after_work':
            resp = self._handle(state, req)
            resp.drop = True
            description += ' (work answered %d)' % resp.status
        elif rule.action == 'status_after_work':
            # A gateway (502, 504) can fail a request the service behind it has carried out. Graph itself does not
            # carry out a request it answers 429 or 503; the rule still allows any status.
            description += ' (work answered %d)' % self._handle(state, req).status
            resp = fault_reply(rule, req)
        elif rule.action == 'rewrite':
            resp = rewrite_reply(rule, self._handle(state, req))
        elif rule.action == 'duplicate':
            # The work is done and answered; the $batch reply then repeats the id with the rule's answer.
            resp = self._handle(state, req)
            description += ' (work answered %d)' % resp.status
            resp.duplicates.append(fault_reply(rule, req))
        elif rule.action == 'rewrite_discovery':
            resp = entra.rewrite_discovery(req, self._handle(state, req), rule.discovery)
        elif rule.replies:
            resp = fault_reply(rule, req)
        else:
            resp = self._handle(state, req)
        resp.fault = description
        return resp

    def _handle(self, state: State, req: Request) -> Response:
        try:
            if req.kind == 'graph':
                return graph.handle(state, req)
            if req.kind == 'batch':
                return batch.handle(state, req, self._process, self._record)
            segments = [unquote(seg) for seg in req.path.split('/')[1:]]
            if req.kind == 'token':
                return entra.token(state, req, segments[0])
            if req.kind == 'oidc':
                if segments[1].lower() == 'discovery':
                    return entra.jwks(state, req, segments[0])
                return entra.openid_configuration(state, req, segments[0])
            return entra.msi_token(state, req)
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc(file=sys.stderr)
            return graph_error(req, 500, 'generalException', 'An internal emulator error occurred.')

    def _record(self, state: State, req: Request, resp: Response) -> None:
        """Finish and log a reply made outside _process (a $batch's own sub-request errors)."""
        self._finish(req, resp)
        self._write_log(state, req, resp)

    @staticmethod
    def _finish(req: Request, resp: Response) -> None:
        resp.headers.setdefault('request-id', req.request_id)
        resp.headers.setdefault('client-request-id', req.client_request_id)
        if req.kind in ('token', 'oidc', 'msi'):
            resp.headers.setdefault('x-ms-request-id', req.request_id)
        resp.headers.setdefault('Content-Type', PLAIN_JSON)

    def _stream_ended(self, state: State, req: Request, resp: Response, bytes_sent: int, client_closed: bool) -> None:
        resp.log_extra.update(bytes_sent=bytes_sent, client_closed=client_closed)
        self._write_log(state, req, resp)

    def _write_log(self, state: State, req: Request, resp: Response) -> None:
        info = graph.presented_token(state, req) if req.kind in ('graph', 'batch') else None
        entry: dict[str, Any] = {
            'ts': round(req.received, 6),
            'kind': req.kind,
            'method': req.method,
            'path': req.path,
            'query': safe_query(req.query),
            'status': None if resp.drop else resp.status,
            'error_code': resp.error_code,
            'fault': resp.fault,
            'client_request_id': req.header('client-request-id'),
            'user_agent': req.header('user-agent'),
            'authorization': auth_scheme(req.header('authorization')),
            'token_client_id': info.client_id if info else None,
            'token_roles': list(info.roles) if info else None,
            'api_version': req.api_version,
            'body_present': bool(req.body),
            'request_id': req.request_id,
            'duration_ms': round((time.time() - req.received) * 1000.0, 1),
        }
        if req.in_batch:
            entry['batch_request_id'] = req.batch_request_id
        if req.kind == 'batch':
            entry['batch_size'] = batch.batch_size(req)
        elif req.kind == 'token':
            entry.update(entra.token_log_fields(req))
        elif req.kind == 'msi':
            entry['client_id'] = (req.query.get('client_id') or [None])[0]
            entry['resource'] = (req.query.get('resource') or [None])[0]
        entry.update(resp.log_extra)
        self._log.write(entry)
