# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The bounded transport (_http/transport.py) against tiny servers on 127.0.0.1: no redirect is
followed, the whole request is bounded, oversized replies are refused, the environment adds no
credentials, proxies are honoured, and no exception text is repeated."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import ssl
import threading
import time

import pytest
import requests

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import TransportError
from ansible_collections.msgraph.migrations.plugins.module_utils._http import transport as transport_module
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import Deadline
from ansible_collections.msgraph.migrations.plugins.module_utils._http.transport import Transport

JSON_OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"value": true}'


class RawServer:
    """A TCP server on 127.0.0.1 that records each request (head and body) and hands the
    connection to ``serve(connection, server)``; ``stop`` releases servers that hold a connection."""

    def __init__(self, serve, tls_context=None):
        self.serve = serve
        self.tls_context = tls_context
        self.requests = []
        self.stop = threading.Event()
        self.sent_bytes = 0
        self.done = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(('127.0.0.1', 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def _accept(self):
        while True:
            try:
                connection, _address = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection):
        try:
            connection.settimeout(10)
            if self.tls_context is not None:
                connection = self.tls_context.wrap_socket(connection, server_side=True)
            data = b''
            while b'\r\n\r\n' not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _sep, body = data.partition(b'\r\n\r\n')
            length = 0
            for line in head.split(b'\r\n')[1:]:
                name, _colon, value = line.partition(b':')
                if name.strip().lower() == b'content-length':
                    length = int(value.strip())
            while len(body) < length:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                body += chunk
            self.requests.append((head.decode('latin-1'), body))
            self.serve(connection, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.done.set()
            try:
                connection.close()
            except OSError:
                pass

    def send(self, connection, data):
        connection.sendall(data)
        self.sent_bytes += len(data)

    def close(self):
        self.stop.set()
        self._sock.close()

    def header_lines(self, index=0):
        return [line.lower() for line in self.requests[index][0].split('\r\n')[1:]]


@pytest.fixture
def server():
    """Start RawServers; every one is stopped at the end of the test."""
    started = []

    def start(serve, tls_context=None):
        raw = RawServer(serve, tls_context)
        started.append(raw)
        return raw

    yield start
    for raw in started:
        raw.close()


def answer(data):
    return lambda connection, raw: raw.send(connection, data)


def hold(connection, raw):
    """Keep the connection open until the test ends."""
    raw.stop.wait(15)


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def test_a_plain_reply_is_complete_and_the_request_says_who_sent_it(server):
    """The reply's status, headers and JSON come back; the request carries our User-Agent and asks for no compression."""
    graph = server(answer(JSON_OK))
    reply = Transport(True, 5).request('POST', graph.url + '/v1.0/x', headers={'Authorization': 'Bearer t'}, json_body={'a': 1})
    assert reply.status_code == 200 and reply.json() == {'value': True} and reply.headers['content-type'] == 'application/json'
    head, body = graph.requests[0]
    assert head.startswith('POST /v1.0/x HTTP/1.1') and json.loads(body) == {'a': 1}
    lines = graph.header_lines()
    assert 'accept-encoding: identity' in lines and 'authorization: bearer t' in lines
    assert any(line.startswith('user-agent: msgraph.migrations/') for line in lines)


@pytest.mark.parametrize('status', [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed_and_names_where_it_pointed(server, status):
    """A 3xx fails as kind redirect naming the Location host; the target never sees the (secret-carrying) request."""
    target = server(answer(JSON_OK))
    redirector = server(answer(b'HTTP/1.1 %d Moved\r\nLocation: http://127.0.0.1:%d/stolen\r\nContent-Length: 0\r\n\r\n'
                               % (status, target.port)))
    with pytest.raises(TransportError) as caught:
        Transport(True, 5).request('POST', redirector.url + '/token', data={'client_secret': 'never-twice'})
    error = caught.value
    assert error.kind == 'redirect' and error.status == status and not error.retryable
    assert '127.0.0.1:%d' % target.port in error.detail and 'not followed' in error.detail
    assert len(redirector.requests) == 1 and target.requests == []


def test_a_redirect_elsewhere_names_that_host(server):
    redirector = server(answer(b'HTTP/1.1 302 Found\r\nLocation: https://user:pw@login.evil.example:444/x\r\nContent-Length: 0\r\n\r\n'))
    with pytest.raises(TransportError) as caught:
        Transport(True, 5).request('GET', redirector.url + '/')
    assert 'login.evil.example:444' in caught.value.detail and 'pw' not in caught.value.detail


def trickle(connection, raw):
    """A reply that sends one byte every 0.2 s: 40 bytes, 8 s in all."""
    raw.send(connection, b'HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n')
    for _byte in range(40):
        if raw.stop.wait(0.2):
            return
        raw.send(connection, b'x')


def trickle_head(connection, raw):
    """Headers that trickle: each read is quick, the whole takes 8 s."""
    for byte in b'HTTP/1.1 200 OK\r\nX-Slow: ' + b'y' * 30:
        if raw.stop.wait(0.2):
            return
        raw.send(connection, bytes([byte]))


@pytest.mark.parametrize('serve', [trickle, trickle_head], ids=['body', 'head'])
def test_a_trickling_reply_is_cut_off_at_the_timeout(server, serve):
    """timeout bounds the whole request: a reply trickling a byte every 0.2 s fails as kind timeout long before it would end."""
    slow = server(serve)
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        Transport(True, 1).request('GET', slow.url + '/')
    elapsed = time.monotonic() - started
    assert caught.value.kind == 'timeout' and caught.value.may_have_reached and caught.value.retryable
    assert 'within 1 s' in caught.value.detail
    assert elapsed < 6, 'the trickle (8 s) was read to its end'


def test_a_content_length_over_the_cap_is_refused_unread(server, monkeypatch):
    """The cap is checked on Content-Length: the body (never sent in full here) is not waited for."""
    monkeypatch.setattr(transport_module, 'MAX_REPLY_BYTES', 1000)

    def huge(connection, raw):
        raw.send(connection, b'HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n' + b'x' * 100)
        hold(connection, raw)

    big = server(huge)
    with pytest.raises(TransportError) as caught:
        Transport(True, 5).request('GET', big.url + '/')
    assert caught.value.kind == 'too_large' and caught.value.status == 200 and not caught.value.retryable
    assert 'of 5000000 bytes' in caught.value.detail and 'over 1000 bytes' in caught.value.detail


def test_a_chunked_reply_over_the_cap_is_refused_without_reading_the_rest(server, monkeypatch):
    """Without Content-Length the count is kept while reading: 3 chunks of 512 bytes end it; the rest never comes."""
    monkeypatch.setattr(transport_module, 'MAX_REPLY_BYTES', 1000)

    def chunked(connection, raw):
        raw.send(connection, b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
        for _chunk in range(3):
            raw.send(connection, b'200\r\n' + b'x' * 512 + b'\r\n')
        hold(connection, raw)

    big = server(chunked)
    with pytest.raises(TransportError) as caught:
        Transport(True, 5).request('GET', big.url + '/')
    assert caught.value.kind == 'too_large' and 'longer than that' in caught.value.detail


def test_netrc_never_adds_authorization(server, isolated_environment):
    """A .netrc for the host would give requests Basic credentials; the transport ignores it."""
    netrc = isolated_environment / '.netrc'
    netrc.write_text('machine 127.0.0.1 login alice password netrc-secret\n')
    os.chmod(str(netrc), 0o600)
    graph = server(answer(JSON_OK))
    requests.get(graph.url + '/control', timeout=5)  # plain requests reads .netrc: this test can fail
    assert any(line.startswith('authorization: basic') for line in graph.header_lines(0))
    Transport(True, 5).request('GET', graph.url + '/x')
    assert not any(line.startswith('authorization') for line in graph.header_lines(1))
    Transport(True, 5).request('GET', graph.url + '/y', headers={'Authorization': 'Bearer mine'})
    assert 'authorization: bearer mine' in graph.header_lines(2)


def proxy_reply(connection, raw):
    raw.send(connection, b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{"proxied": true}')


def test_http_proxy_from_the_environment_is_used(server, monkeypatch):
    target = server(answer(JSON_OK))
    proxy = server(proxy_reply)
    monkeypatch.setenv('HTTP_PROXY', proxy.url)
    reply = Transport(True, 5).request('GET', target.url + '/v1.0/x')
    assert reply.json() == {'proxied': True}
    assert proxy.requests[0][0].startswith('GET %s/v1.0/x HTTP/1.1' % target.url) and target.requests == []


def test_no_proxy_bypasses_the_proxy(server, monkeypatch):
    target = server(answer(JSON_OK))
    proxy = server(proxy_reply)
    monkeypatch.setenv('HTTP_PROXY', proxy.url)
    monkeypatch.setenv('NO_PROXY', 'localhost,127.0.0.1')
    assert Transport(True, 5).request('GET', target.url + '/v1.0/x').json() == {'value': True}
    assert proxy.requests == [] and len(target.requests) == 1


def test_https_proxy_from_the_environment_is_asked_to_connect(server, monkeypatch):
    """An https request goes through HTTPS_PROXY's CONNECT; a proxy refusing it is a connection failure, never sent on."""
    proxy = server(answer(b'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'))
    monkeypatch.setenv('HTTPS_PROXY', proxy.url)
    port = free_port()
    with pytest.raises(TransportError) as caught:
        Transport(True, 5).request('POST', 'https://127.0.0.1:%d/v1.0/x' % port)
    assert proxy.requests[0][0].startswith('CONNECT 127.0.0.1:%d HTTP/1.' % port)
    assert caught.value.kind == 'connect' and not caught.value.may_have_reached


def test_a_refused_connection_never_reached_the_server():
    with pytest.raises(TransportError) as caught:
        Transport(True, 5).request('POST', 'http://127.0.0.1:%d/x' % free_port())
    error = caught.value
    assert error.kind == 'connect' and error.may_have_reached is False and error.retryable
    assert error.detail.startswith('could not connect to 127.0.0.1:')


def test_a_lost_reply_may_have_reached_the_server(server):
    """The server read the request and hung up: it may have been carried out."""
    graph = server(lambda connection, raw: None)
    with pytest.raises(TransportError) as caught:
        Transport(True, 5).request('POST', graph.url + '/cancel')
    assert caught.value.kind == 'lost' and caught.value.may_have_reached and caught.value.retryable
    assert len(graph.requests) == 1


@pytest.mark.parametrize('value', ['Bearer tok\nX-Injected: header-secret', 'Bearer header-secret\u0101'], ids=['newline', 'not-latin-1'])
def test_a_header_that_cannot_be_sent_is_never_quoted(server, value):
    """requests' and http.client's messages quote the header value; ours names only the exception type, and nothing is sent."""
    graph = server(answer(JSON_OK))
    with pytest.raises(TransportError) as caught:
        Transport(True, 5).request('POST', graph.url + '/x', headers={'Authorization': value})
    error = caught.value
    assert error.kind == 'connect' and error.may_have_reached is False
    assert 'header-secret' not in str(error) and 'Bearer' not in error.detail
    assert error.__cause__ is None and error.__suppress_context__
    time.sleep(0.2)
    assert graph.requests == []


def test_an_exhausted_deadline_sends_nothing(server):
    graph = server(answer(JSON_OK))
    clock = [0.0]
    deadline = Deadline(1, clock=lambda: clock[0])
    clock[0] = 5.0
    with pytest.raises(TransportError) as caught:
        Transport(True, 5).request('POST', graph.url + '/x', deadline=deadline)
    assert caught.value.kind == 'timeout' and caught.value.may_have_reached is False
    time.sleep(0.2)
    assert graph.requests == []


@pytest.fixture(scope='module')
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (its own CA): (cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'unit-test-ca')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    directory = tmp_path_factory.mktemp('tls')
    cert_file, key_file = directory / 'cert.pem', directory / 'key.pem'
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def tls_server(server, certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    raw = server(answer(JSON_OK), tls_context=context)
    return raw, 'https://127.0.0.1:%d' % raw.port


def test_an_untrusted_certificate_fails_as_tls_and_is_not_retried(server, certificate):
    _raw, url = tls_server(server, certificate)
    with pytest.raises(TransportError) as caught:
        Transport(True, 5).request('GET', url + '/x')
    error = caught.value
    assert error.kind == 'tls' and not error.retryable and error.may_have_reached is False
    assert 'certificate verify failed' in error.detail


def test_ca_path_wins_over_requests_ca_bundle(server, certificate, monkeypatch, tmp_path):
    """The verify given to the transport is used even when REQUESTS_CA_BUNDLE points elsewhere (see the API notes)."""
    raw, url = tls_server(server, certificate)
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', str(tmp_path / 'missing-bundle.pem'))
    reply = Transport(certificate[0], 5).request('GET', url + '/x')
    assert reply.status_code == 200 and len(raw.requests) == 1
