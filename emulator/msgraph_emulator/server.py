# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTPS server, the request dispatcher (faults, $batch, logging) and the admin API."""

from __future__ import annotations

import ipaddress
import json
import os
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
from typing import Any, Dict, List, Optional, Set, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

from . import entra, graph, tls
from .faults import FaultError, FaultRule, FaultSet
from .reqlog import RequestLog
from .state import ScenarioError, State, load_scenario
from .util import (PLAIN_JSON, Request, Response, auth_scheme, entra_error, graph_error, json_bytes, json_response, msi_error, new_guid,
                   safe_query)

MAX_BODY_BYTES = 16 * 1024 * 1024
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 60.0
MAX_BATCH = 20

_GRAPH_FAULT_DEFAULTS = {
    400: ("BadRequest", "Bad request."),
    401: ("InvalidAuthenticationToken", "Access token validation failure."),
    403: ("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
    404: ("ResourceNotFound", "Resource not found."),
    409: ("Conflict", "Cancel is not possible."),
    429: ("TooManyRequests", "Too many requests."),
    500: ("generalException", "General exception while processing."),
    502: ("BadGateway", "Bad gateway."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("GatewayTimeout", "The gateway did not receive a response in time."),
}
_ENTRA_FAULT_DEFAULTS = {
    400: ("invalid_request", 9002313, "Invalid request. Request is malformed or invalid."),
    401: ("invalid_client", 7000222, "The provided client secret keys for the app are expired."),
    429: ("temporarily_unavailable", 90033, "A transient error has occurred. Please try again."),
    500: ("server_error", 90033, "A transient error has occurred. Please try again."),
    503: ("temporarily_unavailable", 90033, "A transient error has occurred. Please try again."),
    504: ("temporarily_unavailable", 90033, "A transient error has occurred. Please try again."),
}


def loopback_host(host: str) -> str:
    """The address to bind for host, which must be a loopback address (or localhost)."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError as exc:
        raise ValueError("refusing to listen on %r: only loopback addresses are allowed" % host) from exc
    if not address.is_loopback:
        raise ValueError("refusing to listen on %r: only loopback addresses are allowed" % host)
    return str(address)


def classify(path: str) -> Tuple[str, Optional[str]]:
    """(kind, api_version) of a request path: admin, graph, batch, token, oidc or msi."""
    segments = [unquote(seg) for seg in path.split("/")[1:]]
    low = [seg.lower() for seg in segments]
    if low and low[0] == "_emulator":
        return "admin", None
    if low == ["msi", "token"]:
        return "msi", None
    if low and low[0] in ("v1.0", "beta"):
        if low[1:] == ["$batch"]:
            return "batch", low[0]
        return "graph", low[0]
    if len(low) == 4 and low[1:] in (["v2.0", ".well-known", "openid-configuration"], ["discovery", "v2.0", "keys"]):
        return "oidc", None
    if len(low) == 3 and low[1:] == [".well-known", "openid-configuration"]:
        return "oidc", None
    if len(low) == 4 and low[1:] == ["oauth2", "v2.0", "token"]:
        return "token", None
    return "graph", None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: Tuple[str, int], context: ssl.SSLContext, emulator: "Emulator"):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.ssl_context = context
        self.emulator = emulator
        self.connections: Set[ssl.SSLSocket] = set()
        self.connections_lock = threading.Lock()
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
            with self.connections_lock:
                self.connections.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def close_all_connections(self) -> None:
        """Shut every open keep-alive connection down so that handler threads end."""
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "msgraph-emulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        """Silence the default per-request stderr line (the request log has everything)."""

    def version_string(self) -> str:
        return self.server_version

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: List[bytes] = []
            total = 0
            for _unused in range(100000):
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    for _trailer in range(100):
                        if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                            break
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        count = int(length)
        if count < 0 or count > MAX_BODY_BYTES:
            raise ValueError("bad Content-Length")
        return self.rfile.read(count)

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self.send_error(400, "Bad request body")
            return
        headers = {key.lower(): value for key, value in self.headers.items()}
        resp = self.server.emulator.handle_http(self.command, self.path, headers, body, self.client_address[0])
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
        self.send_header("Content-Length", str(len(resp.body)))
        # Headers and body in one write: one TLS record, no Nagle/delayed-ACK stall.
        self._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
        if self.command != "HEAD" and resp.body:
            self._headers_buffer.append(resp.body)  # type: ignore[attr-defined]
        self.flush_headers()
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class Emulator:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """A local HTTPS emulator of Graph's cross-tenant migration API, Entra ID's token endpoint and App Service managed identity."""

    def __init__(self, scenario: Any = None, ca_file: Optional[str] = None, request_log: Optional[str] = None, host: str = "127.0.0.1",
                 port: int = 0, latency_ms: float = 0):
        self.host = loopback_host(host)
        self._requested_port = int(port)
        self.port: Optional[int] = None
        self._tempdir: Optional[str] = None
        if ca_file is None:
            self._tempdir = tempfile.mkdtemp(prefix="msgraph-emulator-")
            ca_file = os.path.join(self._tempdir, "ca.pem")
        self.ca_file = os.path.abspath(os.fspath(ca_file))
        self.ca_pem: Optional[bytes] = None
        self.request_log_path = os.path.abspath(os.fspath(request_log)) if request_log else None
        self._log = RequestLog(self.request_log_path)
        if isinstance(latency_ms, bool) or not isinstance(latency_ms, (int, float)) or not 0 <= latency_ms <= 60000:
            raise ValueError("latency_ms must be a number from 0 to 60000")
        self.latency_ms = float(latency_ms)
        self._faults = FaultSet()
        self._state = self._build_state(scenario)
        self._stop_event = threading.Event()
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    # ----- lifecycle -----------------------------------------------------------------------

    def _build_state(self, scenario: Any) -> State:
        data, base_dir = load_scenario(scenario)
        state = State(data, base_dir)
        rules = [FaultRule(spec) for spec in state.fault_specs]
        self._faults.clear()
        for rule in rules:
            self._faults.add(rule.spec)
        return state

    def start(self) -> "Emulator":
        """Generate the certificates, write the CA file and start serving in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        context, self.ca_pem = tls.server_context(self.ca_file)
        self._log.reopen()
        self._stop_event.clear()
        self._server = _Server((self.host, self._requested_port), context, self)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="msgraph-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and the request log file."""
        self._stop_event.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_all_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._log.close()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The root URL, e.g. https://127.0.0.1:PORT."""
        if self.port is None:
            raise RuntimeError("the emulator is not running")
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "https://%s:%d" % (host, self.port)

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    # ----- control -------------------------------------------------------------------------

    def reset(self, scenario: Any = None) -> None:
        """Replace all state with a scenario (None: the built-in one), clear the faults, empty the request log."""
        state = self._build_state(scenario)
        self._state = state
        self._log.truncate()

    def add_fault(self, rule: Any) -> List[str]:
        """Add a fault rule (or a list of them); return their descriptions."""
        return [added.describe() for added in self._faults.add(rule)]

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._faults.clear()

    def faults(self) -> List[Dict[str, Any]]:
        """The fault rules with their counters."""
        return self._faults.summaries()

    def requests(self) -> List[Dict[str, Any]]:
        """The request log entries since the last reset."""
        return self._log.entries()

    def mint_token(self, tenant_id: str, client_id: str, roles: List[str], expires_in: int = 3600) -> str:
        """An access token the Graph endpoints accept, without going through the token endpoint."""
        return self._state.issue_token(tenant_id, client_id, list(roles or []), int(expires_in), "minted", None)

    def expire_tokens(self) -> int:
        """Make every token issued so far expired."""
        return self._state.expire_tokens()

    def issued_tokens(self) -> List[str]:
        """Every access token issued (or minted) since the last reset, for secret-hygiene checks."""
        state = self._state
        with state.lock:
            return list(state.tokens)

    def task(self, job_id: str, task_id: str) -> Dict[str, Any]:
        """The task as Graph shows it now (KeyError when unknown)."""
        state = self._state
        with state.lock:
            job = state.find_job(job_id)
            task = job.tasks.get(task_id.lower()) if job else None
            if task is None:
                raise KeyError("no task %s in job %s" % (task_id, job_id))
            return task.as_graph()

    def job(self, job_id: str) -> Dict[str, Any]:
        """The job as Graph shows it now (KeyError when unknown)."""
        state = self._state
        with state.lock:
            job = state.find_job(job_id)
            if job is None:
                raise KeyError("no job %s" % job_id)
            return job.as_graph()

    def state(self) -> Dict[str, Any]:
        """Jobs with their tasks, settings and fault counters."""
        view = self._state.snapshot()
        view["faults"] = self._faults.summaries()
        return view

    # ----- dispatch ------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stop_event.wait(seconds)

    def _root(self, host_header: Optional[str]) -> str:
        port = self.port
        if host_header:
            host = host_header.strip().lower()
            if host in ("127.0.0.1:%s" % port, "localhost:%s" % port, "[::1]:%s" % port):
                return "https://" + host
        return self.url

    def handle_http(self, method: str, target: str, headers: Dict[str, str], body: bytes, client: str) -> Response:
        """Answer one HTTP request (headers with lower-case names)."""
        parts = urlsplit(target)
        path = parts.path or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        kind, version = classify(path)
        if kind == "admin":
            return self._admin(method, path, body, client)
        req = Request(method=method.upper(), path=path, query=query, headers=headers, body=body, root=self._root(headers.get("host")), kind=kind,
                      api_version=version, client_request_id=headers.get("client-request-id") or new_guid(), client_address=client)
        latency = self.latency_ms or float(self._state.settings.get("latency_ms") or 0)
        self._sleep(latency / 1000.0)
        return self._process(req)

    def _process(self, req: Request) -> Response:
        state = self._state
        rule = self._faults.select(req)
        if rule is None:
            resp = self._handle(state, req)
        else:
            description = rule.describe()
            if rule.latency_ms:
                self._sleep(rule.latency_ms / 1000.0)
            if rule.action == "hang":
                self._sleep(rule.seconds)
            if rule.action == "expire_tokens":
                state.expire_tokens()
            if rule.status is not None:
                if rule.action == "status_after_work":
                    # Graph can carry out a request and still answer 429/503/504.
                    description += " (work answered %d)" % self._handle(state, req).status
                resp = self._fault_response(rule, req)
            elif rule.action == "drop":
                resp = Response(status=0, drop=True)
            elif rule.action == "drop_after_work":
                resp = self._handle(state, req)
                resp.drop = True
                description += " (work answered %d)" % resp.status
            else:
                resp = self._handle(state, req)
            resp.fault = description
        self._finish(req, resp)
        self._write_log(state, req, resp)
        return resp

    def _handle(self, state: State, req: Request) -> Response:
        try:
            if req.kind == "graph":
                return graph.handle(state, req)
            if req.kind == "batch":
                return self._batch(state, req)
            segments = [unquote(seg) for seg in req.path.split("/")[1:]]
            if req.kind == "token":
                return entra.token(state, req, segments[0])
            if req.kind == "oidc":
                if segments[1].lower() == "discovery":
                    return entra.jwks(state, req, segments[0])
                return entra.openid_configuration(state, req, segments[0])
            return entra.msi_token(state, req)
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc(file=sys.stderr)
            return graph_error(req, 500, "generalException", "An internal emulator error occurred.")

    @staticmethod
    def _finish(req: Request, resp: Response) -> None:
        resp.headers.setdefault("request-id", req.request_id)
        resp.headers.setdefault("client-request-id", req.client_request_id)
        if req.kind in ("token", "oidc", "msi"):
            resp.headers.setdefault("x-ms-request-id", req.request_id)
        resp.headers.setdefault("Content-Type", PLAIN_JSON)

    @staticmethod
    def _fault_response(rule: FaultRule, req: Request) -> Response:
        status = int(rule.status or 500)
        if rule.body is not None:
            if isinstance(rule.body, str):
                resp = Response(status=status, body=rule.body.encode("utf-8"), headers={"Content-Type": rule.content_type or "text/html; charset=utf-8"})
            else:
                resp = json_response(status, rule.body, rule.content_type or PLAIN_JSON)
            resp.error_code = rule.error_code
        elif req.kind in ("token", "oidc"):
            error, number, message = _ENTRA_FAULT_DEFAULTS.get(status, _ENTRA_FAULT_DEFAULTS[500 if status >= 500 else 400])
            resp = entra_error(req, status, rule.error_code or error, number, rule.error_message or message)
        elif req.kind == "msi":
            resp = msi_error(status, rule.error_message or "The managed identity endpoint failed with status %d." % status)
            resp.error_code = rule.error_code
        else:
            code, message = _GRAPH_FAULT_DEFAULTS.get(status, ("generalException" if status >= 500 else "BadRequest", "Injected fault."))
            resp = graph_error(req, status, rule.error_code or code, rule.error_message or message)
        if rule.retry_after is not None:
            resp.headers["Retry-After"] = rule.retry_after
        resp.headers.update(rule.headers)
        return resp

    def _write_log(self, state: State, req: Request, resp: Response) -> None:
        info = graph.presented_token(state, req) if req.kind in ("graph", "batch") else None
        entry: Dict[str, Any] = {
            "ts": round(req.received, 6),
            "kind": req.kind,
            "method": req.method,
            "path": req.path,
            "query": safe_query(req.query),
            "status": None if resp.drop else resp.status,
            "error_code": resp.error_code,
            "fault": resp.fault,
            "client_request_id": req.header("client-request-id"),
            "user_agent": req.header("user-agent"),
            "authorization": auth_scheme(req.header("authorization")),
            "token_client_id": info.client_id if info else None,
            "token_roles": list(info.roles) if info else None,
            "api_version": req.api_version,
            "body_present": bool(req.body),
            "request_id": req.request_id,
            "duration_ms": round((time.time() - req.received) * 1000.0, 1),
        }
        if req.in_batch:
            entry["batch_request_id"] = req.batch_request_id
        if req.kind == "token":
            entry.update(entra.token_log_fields(req))
        elif req.kind == "msi":
            entry["client_id"] = (req.query.get("client_id") or [None])[0]
            entry["resource"] = (req.query.get("resource") or [None])[0]
        entry.update(resp.log_extra)
        self._log.write(entry)

    # ----- $batch --------------------------------------------------------------------------

    def _batch(self, state: State, req: Request) -> Response:  # pylint: disable=too-many-return-statements,too-many-branches
        if req.method != "POST":
            resp = graph_error(req, 405, "MethodNotAllowed", "The HTTP method '%s' is not allowed for $batch." % req.method[:10])
            resp.headers["Allow"] = "POST"
            return resp
        _info, error = graph.authenticate(state, req)
        if error is not None:
            return error
        try:
            payload = json.loads(req.body.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError):
            return graph_error(req, 400, "BadRequest", "Invalid batch payload format: the body is not valid JSON.")
        subs = payload.get("requests") if isinstance(payload, dict) else None
        if not isinstance(subs, list):
            return graph_error(req, 400, "BadRequest", "Invalid batch payload format: 'requests' must be an array.")
        if not 1 <= len(subs) <= MAX_BATCH:
            return graph_error(req, 400, "BadRequest", "A JSON batch must hold between 1 and %d requests; this one holds %d. "
                               "The limit is %d requests per batch." % (MAX_BATCH, len(subs), MAX_BATCH))
        seen: List[str] = []
        for sub in subs:
            if not isinstance(sub, dict):
                return graph_error(req, 400, "BadRequest", "Invalid batch payload format: every request must be an object.")
            sub_id = sub.get("id")
            if not isinstance(sub_id, str) or not sub_id:
                return graph_error(req, 400, "BadRequest", "Invalid batch payload format: every request needs a string 'id'.")
            if sub_id in seen:
                return graph_error(req, 400, "BadRequest", "Invalid batch payload format: the request id '%s' is used twice." % sub_id[:40])
            if not isinstance(sub.get("method"), str) or sub["method"].upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                return graph_error(req, 400, "BadRequest", "Invalid batch payload format: request '%s' needs a valid 'method'." % sub_id[:40])
            if not isinstance(sub.get("url"), str) or not sub["url"]:
                return graph_error(req, 400, "BadRequest", "Invalid batch payload format: request '%s' needs a 'url'." % sub_id[:40])
            if sub.get("headers") is not None and not isinstance(sub["headers"], dict):
                return graph_error(req, 400, "BadRequest", "Invalid batch payload format: 'headers' of request '%s' must be an object." % sub_id[:40])
            depends = sub.get("dependsOn") or []
            if not isinstance(depends, list) or any(dep not in seen for dep in depends):
                return graph_error(req, 400, "BadRequest",
                                   "Invalid batch payload format: 'dependsOn' of request '%s' must name requests that come before it." % sub_id[:40])
            seen.append(sub_id)
        statuses: Dict[str, int] = {}
        responses: List[Dict[str, Any]] = []
        dropped: List[str] = []
        for sub in subs:
            sub_req = self._sub_request(req, sub)
            if any(not 200 <= statuses.get(dep, 0) < 300 for dep in sub.get("dependsOn") or []):
                resp = graph_error(sub_req, 424, "FailedDependency", "The request depends on a request that failed.")
                self._finish(sub_req, resp)
                self._write_log(state, sub_req, resp)
            elif sub["url"].lower().startswith(("http://", "https://")):
                resp = graph_error(sub_req, 400, "BadRequest", "Invalid request URL: a batch request url must be relative to the version root.")
                self._finish(sub_req, resp)
                self._write_log(state, sub_req, resp)
            else:
                resp = self._process(sub_req)
            statuses[sub["id"]] = resp.status
            if resp.drop:
                dropped.append(sub["id"])
            responses.append(self._sub_response(sub["id"], resp))
        if state.settings["batch_order"] == "reversed":
            responses.reverse()
        out = json_response(200, {"responses": responses}, PLAIN_JSON)
        if dropped:
            out.drop = True
            out.fault = "reply lost: sub-request fault on %s" % ", ".join(dropped)
        return out

    @staticmethod
    def _sub_request(outer: Request, sub: Dict[str, Any]) -> Request:
        parts = urlsplit(sub["url"])
        path = "/%s/%s" % (outer.api_version, parts.path.lstrip("/"))
        headers = {str(k).lower(): str(v) for k, v in (sub.get("headers") or {}).items()}
        for name in ("authorization", "user-agent", "host"):
            if outer.header(name) is not None:
                headers[name] = outer.headers[name]
            else:
                headers.pop(name, None)
        body = sub.get("body")
        if body is None:
            raw = b""
        elif isinstance(body, str):
            raw = body.encode("utf-8")
        else:
            raw = json_bytes(body)
        return Request(method=sub["method"].upper(), path=path, query=parse_qs(parts.query, keep_blank_values=True), headers=headers, body=raw,
                       root=outer.root, kind="graph", api_version=outer.api_version, in_batch=True, batch_request_id=sub["id"],
                       client_request_id=headers.get("client-request-id") or outer.client_request_id, client_address=outer.client_address)

    @staticmethod
    def _sub_response(sub_id: str, resp: Response) -> Dict[str, Any]:
        headers = {key: value for key, value in resp.headers.items() if key.lower() not in ("request-id", "client-request-id", "x-ms-request-id")}
        entry: Dict[str, Any] = {"id": sub_id, "status": resp.status, "headers": headers}
        if resp.json_body is not None:
            entry["body"] = resp.json_body
        elif resp.body:
            entry["body"] = resp.body.decode("utf-8", "replace")
        return entry

    # ----- admin API -----------------------------------------------------------------------

    def _admin(self, method: str, path: str, body: bytes, client: str) -> Response:  # pylint: disable=too-many-return-statements
        try:
            if not ipaddress.ip_address(client.split("%", 1)[0]).is_loopback:
                return json_response(403, {"error": "the admin API answers loopback clients only"})
        except ValueError:
            return json_response(403, {"error": "the admin API answers loopback clients only"})
        action = path[len("/_emulator"):].strip("/").lower()
        method = method.upper()
        routes = {
            ("reset", "POST"), ("faults", "POST"), ("faults", "GET"), ("faults", "DELETE"), ("state", "GET"), ("tokens", "POST"),
            ("expire-tokens", "POST"), ("requests", "GET"), ("requests", "DELETE"),
        }
        if action not in {name for name, _m in routes}:
            return json_response(404, {"error": "unknown admin endpoint /_emulator/%s" % action[:40]})
        if (action, method) not in routes:
            return json_response(405, {"error": "method %s not allowed on /_emulator/%s" % (method[:10], action)})
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            return json_response(400, {"error": "the body is not valid JSON"})
        try:
            return self._admin_action(action, method, data)
        except (ScenarioError, FaultError, ValueError, TypeError) as exc:
            return json_response(400, {"error": str(exc)})

    def _admin_action(self, action: str, method: str, data: Any) -> Response:  # pylint: disable=too-many-return-statements
        if action == "reset":
            self.reset(data)
            return json_response(200, {"status": "reset"})
        if action == "faults":
            if method == "GET":
                return json_response(200, self.faults())
            if method == "DELETE":
                self.clear_faults()
                return json_response(200, {"status": "cleared"})
            if data is None:
                raise ValueError("the body must be a fault rule or a list of rules")
            return json_response(200, {"added": self.add_fault(data)})
        if action == "state":
            return json_response(200, self.state())
        if action == "tokens":
            data = data or {}
            if not isinstance(data, dict):
                raise ValueError("the body must be an object")
            tenant_id = data.get("tenant_id") or next(iter(self._state.tenants.values())).id
            expires_in = int(data.get("expires_in", 3600))
            token = self.mint_token(tenant_id, data.get("client_id") or new_guid(), list(data.get("roles") or []), expires_in)
            return json_response(200, {"access_token": token, "token_type": "Bearer", "expires_in": expires_in})
        if action == "expire-tokens":
            return json_response(200, {"expired": self.expire_tokens()})
        if method == "DELETE":
            self._log.truncate()
            return json_response(200, {"status": "cleared"})
        return json_response(200, self.requests())
