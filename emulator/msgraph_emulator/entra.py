# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Microsoft Entra ID (v2.0) discovery and token endpoints, and the App Service managed identity endpoint."""

from __future__ import annotations

import base64
import hmac
import time
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import parse_qs, unquote_plus

import jwt
from cryptography.hazmat.primitives import hashes

from .model import App
from .state import State
from .util import ENTRA_JSON, Request, Response, clip, entra_error, iso, json_response, msi_error

JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'
CERT_DOCS = 'Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .'


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode('ascii').rstrip('=')


def parse_form(req: Request) -> dict[str, str]:
    """The urlencoded form of a token request (first value of each key)."""
    try:
        text = req.body.decode('utf-8')
    except UnicodeDecodeError:
        return {}
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}


def _basic_credentials(req: Request) -> tuple[Optional[str], Optional[str]]:
    header = req.header('authorization') or ''
    parts = header.split(None, 1)
    if len(parts) != 2 or parts[0].lower() != 'basic':
        return None, None
    try:
        decoded = base64.b64decode(parts[1]).decode('utf-8')
    except (ValueError, UnicodeDecodeError):
        return None, None
    user, _sep, password = decoded.partition(':')
    return unquote_plus(user), unquote_plus(password)


@dataclass
class ClientAssertion:
    """A client assertion, decoded once without verifying it: its kind, header and claims."""

    kind: str  # certificate, federated, or malformed (not a JWT)
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)


def read_assertion(assertion: str, client_id: Optional[str]) -> ClientAssertion:
    """Decode a client assertion (no signature check) and tell a certificate assertion from a federated one.

    A certificate assertion names its certificate (x5t or x5t#S256) or is issued by the app itself; anything
    else is a federated token from an outside issuer."""
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={'verify_signature': False})
    except jwt.PyJWTError:
        return ClientAssertion('malformed')
    issuer = claims.get('iss')
    own = isinstance(issuer, str) and bool(client_id) and issuer.lower() == str(client_id).lower()
    kind = 'certificate' if 'x5t' in header or 'x5t#S256' in header or own else 'federated'
    return ClientAssertion(kind, header, claims)


@dataclass
class TokenForm:
    """What a token request carries, parsed once for both the handler and the request log."""

    form: dict[str, str]
    client_id: Optional[str]
    secret: Optional[str]
    assertion: Optional[str]
    decoded: Optional[ClientAssertion]

    @property
    def credential(self) -> str:
        """secret, certificate, federated or none, judged without verifying anything (for the log)."""
        if self.secret:
            return 'secret'
        if self.decoded is None:
            return 'none'
        # A malformed assertion is logged as certificate, the kind a client sends when it signs its own.
        return 'certificate' if self.decoded.kind == 'malformed' else self.decoded.kind


def token_form(req: Request) -> TokenForm:
    """The token request's form and credentials, parsed on first use and kept on the request."""
    cached = req.memo.get('token_form')
    if cached is None:
        form = parse_form(req)
        basic_id, basic_secret = _basic_credentials(req)
        client_id = form.get('client_id') or basic_id
        assertion = form.get('client_assertion')
        cached = TokenForm(form=form, client_id=client_id, secret=form.get('client_secret') or basic_secret, assertion=assertion,
                           decoded=read_assertion(assertion, client_id) if assertion else None)
        req.memo['token_form'] = cached
    return cached


def token_log_fields(req: Request) -> dict[str, Any]:
    """The fields a token request adds to the request log: never a secret or an assertion."""
    parsed = token_form(req)
    return {
        'grant_type': parsed.form.get('grant_type'),
        'client_id': parsed.client_id,
        'scope': parsed.form.get('scope'),
        'credential': parsed.credential,
    }


def openid_configuration(state: State, req: Request, tenant_name: str) -> Response:
    """GET /{tenant}/v2.0/.well-known/openid-configuration"""
    if req.method != 'GET':
        return entra_error(req, 405, 'invalid_request', 900561, 'The endpoint only accepts GET requests.')
    tenant = state.tenant(tenant_name)
    if tenant is None:
        return _unknown_tenant(req, tenant_name)
    root = req.root
    tid = tenant.id
    config = {
        'token_endpoint': '%s/%s/oauth2/v2.0/token' % (root, tid),
        'token_endpoint_auth_methods_supported': ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        'jwks_uri': '%s/%s/discovery/v2.0/keys' % (root, tid),
        'response_modes_supported': ['query', 'fragment', 'form_post'],
        'subject_types_supported': ['pairwise'],
        'id_token_signing_alg_values_supported': ['RS256'],
        'response_types_supported': ['code', 'id_token', 'code id_token', 'id_token token'],
        'scopes_supported': ['openid', 'profile', 'email', 'offline_access'],
        'issuer': '%s/%s/v2.0' % (root, tid),
        'request_uri_parameter_supported': False,
        'userinfo_endpoint': '%s/oidc/userinfo' % root,
        'authorization_endpoint': '%s/%s/oauth2/v2.0/authorize' % (root, tid),
        'device_authorization_endpoint': '%s/%s/oauth2/v2.0/devicecode' % (root, tid),
        'http_logout_supported': True,
        'frontchannel_logout_supported': True,
        'end_session_endpoint': '%s/%s/oauth2/v2.0/logout' % (root, tid),
        'claims_supported': ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud',
                             'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
        'kerberos_endpoint': '%s/%s/kerberos' % (root, tid),
        'tenant_region_scope': 'NA',
        'cloud_instance_name': 'microsoftonline.com',
        'cloud_graph_host_name': 'graph.windows.net',
        'msgraph_host': root.split('://', 1)[-1],
        'rbac_url': 'https://pas.windows.net',
    }
    return json_response(200, config, ENTRA_JSON)


def rewrite_discovery(req: Request, resp: Response, fields: dict[str, Any]) -> Response:
    """The real discovery reply with ``fields`` set (None removes one): a document naming another host, for instance.

    Only a 200 discovery document is rewritten; any other reply (the key set, an unknown tenant) is left as it is."""
    if resp.status != 200 or not isinstance(resp.json_body, dict) or not req.path.endswith('/.well-known/openid-configuration'):
        return resp
    document = dict(resp.json_body)
    for name, value in fields.items():
        if value is None:
            document.pop(name, None)
        else:
            document[name] = value
    rewritten = json_response(200, document, resp.headers.get('Content-Type') or ENTRA_JSON)
    rewritten.headers = dict(resp.headers, **rewritten.headers)
    return rewritten


def jwks(state: State, req: Request, tenant_name: str) -> Response:
    """GET /{tenant}/discovery/v2.0/keys: the emulator signs nothing, so the key set is empty."""
    if state.tenant(tenant_name) is None:
        return _unknown_tenant(req, tenant_name)
    return json_response(200, {'keys': []}, ENTRA_JSON)


def _unknown_tenant(req: Request, tenant_name: str) -> Response:
    return entra_error(
        req, 400, 'invalid_tenant', 90002,
        "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. "
        'Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.' % clip(tenant_name))


def _audience_of_scope(scope: str) -> str:
    resource = scope[: -len('/.default')]
    return resource


def token(state: State, req: Request, tenant_name: str) -> Response:  # pylint: disable=too-many-return-statements
    """POST /{tenant}/oauth2/v2.0/token: the client credentials grant."""
    if req.method != 'POST':
        return entra_error(req, 405, 'invalid_request', 900561,
                           'The endpoint only accepts POST, OPTIONS requests. Received a %s request.' % clip(req.method, 10))
    tenant = state.tenant(tenant_name)
    if tenant is None:
        return _unknown_tenant(req, tenant_name)
    parsed = token_form(req)
    form = parsed.form
    grant_type = form.get('grant_type')
    if not grant_type:
        return entra_error(req, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.")
    if grant_type != 'client_credentials':
        return entra_error(req, 400, 'unsupported_grant_type', 70003, "The app requested an unsupported grant type '%s'." % clip(grant_type, 40))
    client_id = parsed.client_id
    if not client_id:
        return entra_error(req, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.")
    scope = form.get('scope')
    if not scope:
        return entra_error(req, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.")
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith('/.default') or len(scopes[0]) <= len('/.default'):
        return entra_error(
            req, 400, 'invalid_scope', 70011,
            "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. "
            'The scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier '
            '(application ID URI).' % clip(scope, 200))
    app = tenant.apps.get(client_id.lower())
    if app is None:
        return entra_error(
            req, 400, 'unauthorized_client', 700016,
            "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed "
            'by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the '
            'wrong tenant.' % (clip(client_id, 60), clip(tenant_name, 60)))
    secret, decoded = parsed.secret, parsed.decoded
    if secret and decoded is not None:
        return entra_error(req, 400, 'invalid_request', 9002313, 'Invalid request. Request is malformed or invalid: more than one client credential was sent.')
    if secret:
        if not any(hmac.compare_digest(secret.encode('utf-8'), known.encode('utf-8')) for known in app.secrets):
            return entra_error(
                req, 401, 'invalid_client', 7000215,
                'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, '
                "for a secret added to app '%s'." % app.client_id)
        kind = 'secret'
    elif decoded is not None and parsed.assertion:
        if form.get('client_assertion_type') != JWT_BEARER:
            return entra_error(req, 400, 'invalid_request', 50027, "JWT token is invalid or malformed: client_assertion_type must be '%s'." % JWT_BEARER)
        if decoded.kind == 'malformed':
            return entra_error(req, 400, 'invalid_request', 50027, 'JWT token is invalid or malformed.')
        kind = decoded.kind
        if kind == 'certificate':
            error = _check_certificate_assertion(req, app, parsed.assertion, decoded, (tenant.id, tenant_name))
        else:
            error = _check_federated_assertion(req, app, decoded.claims)
        if error is not None:
            return error
    else:
        return entra_error(req, 401, 'invalid_client', 7000218,
                           "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    lifetime = int(state.settings['token_lifetime_seconds'])
    access_token = state.issue_token(tenant.id, app.client_id, app.roles, lifetime, kind, _audience_of_scope(scopes[0]))
    resp = json_response(200, {'token_type': 'Bearer', 'expires_in': lifetime, 'ext_expires_in': lifetime, 'access_token': access_token}, ENTRA_JSON)
    resp.headers.update({'Cache-Control': 'no-store, no-cache', 'Pragma': 'no-cache'})
    return resp


def _token_endpoints(req: Request, tenant_id: str, tenant_name: str) -> list[str]:
    port_part = req.root.rsplit(':', 1)[-1]
    roots = [req.root]
    for host in ('127.0.0.1', 'localhost', '[::1]'):
        roots.append('https://%s:%s' % (host, port_part))
    out = []
    for root in roots:
        for name in (tenant_id, tenant_id.lower(), tenant_name):
            out.append('%s/%s/oauth2/v2.0/token' % (root, name))
    return out


def _expired(req: Request, claims: dict[str, Any]) -> Optional[Response]:
    now = time.time()
    exp = claims.get('exp')
    nbf = claims.get('nbf')
    if not isinstance(exp, (int, float)) or exp <= now - 300 or (isinstance(nbf, (int, float)) and nbf > now + 300):
        return entra_error(
            req, 401, 'invalid_client', 700024,
            'Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. %s' % (
                iso(now), iso(nbf) if isinstance(nbf, (int, float)) else 'unknown', iso(exp) if isinstance(exp, (int, float)) else 'unknown', CERT_DOCS))
    return None


def _check_certificate_assertion(req: Request, app: App, assertion: str, decoded: ClientAssertion, tenant: tuple[str, str]) -> Optional[Response]:
    header = decoded.header
    sha1 = str(header.get('x5t', '')).rstrip('=')
    sha256 = str(header.get('x5t#S256', '')).rstrip('=')
    shown = sha256 or sha1
    cert = None
    for candidate in app.certificates:
        if (sha256 and _b64url(candidate.fingerprint(hashes.SHA256())) == sha256) or (sha1 and _b64url(candidate.fingerprint(hashes.SHA1())) == sha1):
            cert = candidate
            break
    if cert is None:
        return entra_error(
            req, 401, 'invalid_client', 700027,
            'The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., '
            "Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys "
            "for app Id '%s'. %s]" % (clip(shown or 'none', 64), app.client_id, CERT_DOCS))
    alg = header.get('alg')
    if alg not in ('RS256', 'PS256'):
        return entra_error(req, 401, 'invalid_client', 700027,
                           "Client assertion failed signature validation. [Reason - The signing algorithm '%s' is not supported.]" % clip(str(alg), 20))
    expired = _expired(req, decoded.claims)
    if expired is not None:
        return expired
    try:
        options = {'verify_aud': False, 'verify_exp': False, 'verify_nbf': False, 'verify_iat': False}
        claims = jwt.decode(assertion, cert.public_key(), algorithms=[alg], options=options)
    except jwt.PyJWTError:
        return entra_error(req, 401, 'invalid_client', 700027,
                           'Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value., '
                           "Thumbprint of key used by client: '%s'. %s]" % (clip(shown, 64), CERT_DOCS))
    if claims.get('iss') != app.client_id or claims.get('sub') != app.client_id:
        return entra_error(req, 401, 'invalid_client', 700027,
                           "Client assertion failed signature validation. [Reason - The iss and sub claims must both be the client_id '%s'.]" % app.client_id)
    aud = claims.get('aud')
    auds = aud if isinstance(aud, list) else [aud]
    accepted = _token_endpoints(req, tenant[0], tenant[1])
    if not any(isinstance(a, str) and a in accepted for a in auds):
        return entra_error(req, 401, 'invalid_client', 700027,
                           'Client assertion failed signature validation. [Reason - The audience claim must be the token endpoint %s.]' % accepted[0])
    return None


def _check_federated_assertion(req: Request, app: App, claims: dict[str, Any]) -> Optional[Response]:
    expired = _expired(req, claims)
    if expired is not None:
        return expired
    issuer = claims.get('iss')
    subject = claims.get('sub')
    aud = claims.get('aud')
    auds = aud if isinstance(aud, list) else [aud]
    matching = [fed for fed in app.federated if fed['issuer'] == issuer and fed['subject'] == subject]
    if not matching:
        return entra_error(
            req, 400, 'invalid_request', 70021,
            "No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. "
            "Assertion Audience: '%s'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation" % (
                clip(str(issuer), 120), clip(str(subject), 120), clip(','.join(str(a) for a in auds), 120)))
    if not any(a in fed['audiences'] for fed in matching for a in auds):
        return entra_error(req, 400, 'invalid_request', 700212,
                           "No matching federated identity record found for presented assertion audience '%s'." % clip(','.join(str(a) for a in auds), 120))
    return None


# ----- managed identity (App Service shape) ----------------------------------------------------

def msi_token(state: State, req: Request) -> Response:  # pylint: disable=too-many-return-statements
    """GET /msi/token?api-version=2019-08-01&resource=...[&client_id=|object_id=|mi_res_id=] with X-IDENTITY-HEADER."""
    if req.method != 'GET':
        return msi_error(405, 'The requested HTTP method is not supported; use GET.')
    header = req.header('x-identity-header')
    if header is None:
        return msi_error(400, 'The X-IDENTITY-HEADER header is missing from the request.')
    if not hmac.compare_digest(header.encode('utf-8'), state.identity_header.encode('utf-8')):
        return msi_error(401, 'Unauthorized: the X-IDENTITY-HEADER value is not valid.')
    query = {key: values[0] for key, values in req.query.items()}
    if query.get('api-version') != '2019-08-01':
        return msi_error(400, 'The api-version parameter is missing or not supported; use 2019-08-01.')
    resource = query.get('resource')
    if not resource:
        return msi_error(400, "Required query variable 'resource' is missing.")
    identity = None
    if query.get('client_id'):
        identity = next((i for i in state.identities if not i.system and i.client_id.lower() == query['client_id'].lower()), None)
    elif query.get('object_id'):
        identity = next((i for i in state.identities if i.object_id and i.object_id.lower() == query['object_id'].lower()), None)
    elif query.get('mi_res_id'):
        identity = next((i for i in state.identities if i.resource_id and i.resource_id.lower() == query['mi_res_id'].lower()), None)
    else:
        identity = next((i for i in state.identities if i.system), None)
        if identity is None:
            return msi_error(400, 'No system-assigned managed identity is enabled for this resource.')
    if identity is None:
        return msi_error(400, 'No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.')
    lifetime = int(state.settings['token_lifetime_seconds'])
    audience = resource[: -len('/.default')] if resource.endswith('/.default') else resource
    access_token = state.issue_token(identity.tenant_id, identity.client_id, identity.roles, lifetime, 'managed_identity', audience)
    body = {
        'access_token': access_token,
        'expires_on': str(int(time.time()) + lifetime),
        'resource': resource,
        'token_type': 'Bearer',
        'client_id': identity.client_id,
    }
    return json_response(200, body, ENTRA_JSON)
