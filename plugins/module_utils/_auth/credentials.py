# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Token acquisition: one small class per authentication method.

Each class declares the options it needs and how ``auth_method: auto`` recognises
it, and checks its inputs without the network (``validate``). Adding a method
means one class here, one entry in ``CREDENTIALS`` and its options in the ``auth``
doc fragment.

msal (and cryptography, for certificates) are imported only by the methods that
need them, so ``access_token`` runs and the sanity import test work without them.
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import Any, ClassVar, Mapping, Optional
from urllib.parse import urlsplit

from ansible_collections.msgraph.migrations.plugins.module_utils._auth.entra_http import EntraHttpClient, Refusal
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.token_cache import TokenStore
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import (
    AuthenticationError,
    GraphMigrationsError,
    MissingLibraryError,
    OptionError,
    TransportError,
    clip,
)
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._core.settings import GraphSettings, option_and_environment
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import NO_DEADLINE, Deadline


def _import_msal(method: str) -> Any:
    try:
        import msal  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MissingLibraryError('msal', 'auth_method %s' % method) from None
    return msal


def unreachable(what: str, exc: TransportError, option: str) -> GraphMigrationsError:
    """A TLS, connection or redirect failure on the way to ``what``: not an authentication failure."""
    hint = exc.hint(option) or 'Check %s, the network and any proxy (HTTPS_PROXY, NO_PROXY).' % option
    return GraphMigrationsError('Could not get a token from %s: %s. %s' % (what, exc.detail, hint),
                                error=dict(kind=exc.kind, host=exc.host, status=exc.status, code=None))


class Credential:
    """Gives a bearer token for Graph."""

    method: ClassVar[str] = ''
    # Options that must have a value (or their environment variable) for this method.
    required_options: ClassVar[tuple[str, ...]] = ()
    can_refresh: ClassVar[bool] = True

    @classmethod
    def detect(cls, settings: GraphSettings, environ: Mapping[str, str]) -> bool:
        """Whether ``auth_method: auto`` picks this method, given what is set."""
        return False

    @classmethod
    def validate(cls, settings: GraphSettings, environ: Mapping[str, str]) -> None:
        """Check this method's inputs without any request; raise OptionError naming the option."""
        for option in cls.required_options:
            if not getattr(settings, option):
                raise OptionError(option_and_environment(option), 'a value for auth_method %s' % cls.method)

    def __init__(self, settings: GraphSettings, http: EntraHttpClient, redactor: Redactor, token_store: Optional[TokenStore] = None) -> None:
        self._settings = settings
        self._http = http
        self._redactor = redactor
        self._store = token_store

    def get_token(self, force_refresh: bool = False, deadline: Deadline = NO_DEADLINE) -> str:
        raise NotImplementedError


class AccessTokenCredential(Credential):
    """A token obtained elsewhere; nothing to refresh, no msal call."""

    method = 'access_token'
    required_options = ('access_token',)
    can_refresh = False

    @classmethod
    def detect(cls, settings: GraphSettings, environ: Mapping[str, str]) -> bool:
        return bool(settings.access_token)

    def get_token(self, force_refresh: bool = False, deadline: Deadline = NO_DEADLINE) -> str:
        return self._settings.access_token or ''


class _MsalCredential(Credential):
    """Shared msal plumbing: the app, the cache, forced refresh, and turning failures into safe errors."""

    # The option that says where the token comes from, for connection hints.
    endpoint_option: ClassVar[str] = 'authority_host'

    def __init__(self, settings: GraphSettings, http: EntraHttpClient, redactor: Redactor, token_store: Optional[TokenStore] = None) -> None:
        super().__init__(settings, http, redactor, token_store)
        self._msal = _import_msal(self.method)
        self._token_cache = token_store.cache if token_store is not None else self._msal.TokenCache()
        if token_store is not None:
            http.discovery = token_store.discovery
        self._app: Any = None

    def _create_app(self) -> Any:
        raise NotImplementedError

    def _acquire(self, app: Any) -> dict:
        raise NotImplementedError

    def _endpoint_host(self) -> str:
        return urlsplit(self._settings.authority_host).netloc

    def _cache_query(self) -> dict[str, Any]:
        raise NotImplementedError

    def _drop_cached_tokens(self) -> None:
        """Forget this app's access tokens for Graph only (a shared cache file holds other apps' too)."""
        access_token = self._msal.TokenCache.CredentialType.ACCESS_TOKEN
        for entry in list(self._token_cache.search(access_token, target=[self._settings.graph_scope], query=self._cache_query())):
            self._token_cache.remove_at(entry)

    def get_token(self, force_refresh: bool = False, deadline: Deadline = NO_DEADLINE) -> str:
        self._http.deadline = deadline
        self._http.last_refusal = None
        try:
            # Look in the cache, ask Entra ID, write the cache: one process at a time.
            with self._store.single_flight(deadline) if self._store is not None else contextlib.nullcontext():
                if force_refresh:
                    self._drop_cached_tokens()
                if self._app is None:
                    self._app = self._create_app()
                result = self._acquire(self._app)
        except TransportError as exc:
            raise unreachable(self._endpoint_host(), exc, self.endpoint_option) from None
        except GraphMigrationsError:
            raise
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # msal raises ValueError/RuntimeError whose text may quote a reply (and so a request): never repeated.
            raise self._refused(self._http.last_refusal, None, 'msal could not complete the request (%s)' % type(exc).__name__) from None
        finally:
            self._http.deadline = NO_DEADLINE
        if not isinstance(result, dict) or not result.get('access_token'):
            raise self._refused(self._http.last_refusal, result if isinstance(result, dict) else {}, 'no token in the reply')
        token = str(result['access_token'])
        self._redactor.add(token)
        return token

    def _refused(self, refusal: Optional[Refusal], result: Optional[dict], fallback: str) -> AuthenticationError:
        """The safe fields of a refusal: msal's result when it has one, else what our HTTP client saw."""
        code = oauth_error = description = None
        if result:
            codes = result.get('error_codes')
            if isinstance(codes, list) and codes and isinstance(codes[0], int):
                code = 'AADSTS%d' % codes[0]
            oauth_error = self._redactor.server_text(result.get('error'), 60) or None
            description = self._redactor.server_text(result.get('error_description')) or None
        if refusal is not None:
            code = code or refusal.code
            oauth_error = oauth_error or refusal.oauth_error
            description = description or refusal.description
        description = description or fallback
        if refusal is not None and refusal.gave_up:
            description = '%s (not retried: %s)' % (description.rstrip('. '), refusal.gave_up)
        return AuthenticationError(self.method, refusal.host if refusal else self._endpoint_host(), refusal.status if refusal else None,
                                   code, oauth_error, description)


class _ConfidentialClientCredential(_MsalCredential):
    """Client credentials flow against ``{authority_host}/{tenant_id}``."""

    required_options = ('tenant_id', 'client_id')

    def _client_credential(self) -> Any:
        raise NotImplementedError

    def _create_app(self) -> Any:
        # Discovery documents and token requests must stay on this authority (see EntraHttpClient).
        self._http.authority = self._settings.authority_host
        return self._msal.ConfidentialClientApplication(
            self._settings.client_id,
            client_credential=self._client_credential(),
            authority='%s/%s' % (self._settings.authority_host, self._settings.tenant_id),
            # Skips the call to the public instance discovery endpoint; the
            # authority is still checked through its OIDC discovery document.
            instance_discovery=False,
            http_client=self._http,
            token_cache=self._token_cache,
        )

    def _acquire(self, app: Any) -> dict:
        return app.acquire_token_for_client(scopes=[self._settings.graph_scope])

    def _cache_query(self) -> dict[str, Any]:
        return {'client_id': self._settings.client_id}

    @classmethod
    def validate(cls, settings: GraphSettings, environ: Mapping[str, str]) -> None:
        super().validate(settings, environ)
        tenant = settings.tenant_id or ''
        # The tenant goes into the authority URL path: a GUID or a domain name, nothing else.
        if not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9.-]{0,252}', tenant):
            raise OptionError(option_and_environment('tenant_id'), 'a tenant GUID or domain name, got %s' % clip(tenant))


class ClientSecretCredential(_ConfidentialClientCredential):
    method = 'client_secret'
    required_options = ('tenant_id', 'client_id', 'client_secret')

    @classmethod
    def detect(cls, settings: GraphSettings, environ: Mapping[str, str]) -> bool:
        return bool(settings.client_secret)

    def _client_credential(self) -> Any:
        self._redactor.add(self._settings.client_secret)
        return self._settings.client_secret


class CertificateCredential(_ConfidentialClientCredential):
    method = 'certificate'
    required_options = ('tenant_id', 'client_id', 'client_certificate_path')

    @classmethod
    def detect(cls, settings: GraphSettings, environ: Mapping[str, str]) -> bool:
        return bool(settings.client_certificate_path)

    def __init__(self, settings: GraphSettings, http: EntraHttpClient, redactor: Redactor, token_store: Optional[TokenStore] = None) -> None:
        super().__init__(settings, http, redactor, token_store)
        redactor.add(settings.client_certificate_password)
        # Loaded now so that a bad file or password fails before any request.
        self._credential = load_certificate_credential(settings.client_certificate_path or '', settings.client_certificate_password)
        redactor.add(self._credential['private_key'])

    def _client_credential(self) -> Any:
        return self._credential


class FederatedTokenCredential(_ConfidentialClientCredential):
    """Workload identity: the federated token is sent as the client assertion."""

    method = 'federated_token'
    required_options = ('tenant_id', 'client_id', 'federated_token_file')

    @classmethod
    def detect(cls, settings: GraphSettings, environ: Mapping[str, str]) -> bool:
        return bool(settings.federated_token_file)

    @classmethod
    def validate(cls, settings: GraphSettings, environ: Mapping[str, str]) -> None:
        super().validate(settings, environ)
        if not os.path.isfile(settings.federated_token_file or ''):
            raise OptionError(option_and_environment('federated_token_file'),
                              'an existing file holding the federated token, but %s does not exist' % clip(settings.federated_token_file, 200))

    def _client_credential(self) -> Any:
        # msal calls this for every token request, so a rotated file is picked up.
        return {'client_assertion': self._read_assertion}

    def _read_assertion(self) -> str:
        path = self._settings.federated_token_file or ''
        try:
            with open(path, 'r', encoding='utf-8') as token_file:
                assertion = token_file.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, 'strerror', None) or 'not UTF-8 text'
            raise OptionError('federated_token_file', 'a readable file holding the federated token (%s)' % reason) from None
        if not assertion:
            raise OptionError('federated_token_file', 'a file holding the federated token, but %s is empty' % clip(path, 200))
        self._redactor.add(assertion)
        return assertion


# Where msal finds a managed identity endpoint other than the VM metadata service
# (App Service, Functions, Container Apps, Arc, Cloud Shell, Service Fabric).
MANAGED_IDENTITY_ENDPOINTS = {
    'IDENTITY_ENDPOINT': 'IDENTITY_HEADER',
    'MSI_ENDPOINT': 'MSI_SECRET',
}


class ManagedIdentityCredential(_MsalCredential):
    """System-assigned, or user-assigned when ``client_id`` is set."""

    method = 'managed_identity'
    endpoint_option = 'the managed identity endpoint (IDENTITY_ENDPOINT or MSI_ENDPOINT)'

    @classmethod
    def detect(cls, settings: GraphSettings, environ: Mapping[str, str]) -> bool:
        # Without one of these, trying the VM metadata endpoint would hang for the whole
        # timeout on any machine that is not an Azure VM: auto never picks it.
        return any(environ.get(name) for name in MANAGED_IDENTITY_ENDPOINTS)

    @classmethod
    def validate(cls, settings: GraphSettings, environ: Mapping[str, str]) -> None:
        for endpoint_name, secret_name in MANAGED_IDENTITY_ENDPOINTS.items():
            endpoint = environ.get(endpoint_name)
            if not endpoint:
                continue
            try:
                parts = urlsplit(endpoint.strip())
                valid = parts.scheme in ('http', 'https') and bool(parts.hostname) and '@' not in parts.netloc
            except ValueError:
                valid = False
            if not valid:
                raise OptionError('auth_method', 'a managed identity endpoint URL in the environment variable %s '
                                                 '(http or https, a host, no user name or password)' % endpoint_name)
            secret = environ.get(secret_name)
            if secret is not None and (not secret.strip() or any(ch.isspace() or not ch.isprintable() for ch in secret)):
                # The value is a credential: never repeated.
                raise OptionError('auth_method', 'the environment variable %s to hold the managed identity header without '
                                                 'whitespace or control characters (its value is not shown)' % secret_name)

    def __init__(self, settings: GraphSettings, http: EntraHttpClient, redactor: Redactor, token_store: Optional[TokenStore] = None) -> None:
        super().__init__(settings, http, redactor, token_store)
        for secret_name in MANAGED_IDENTITY_ENDPOINTS.values():
            redactor.add(os.environ.get(secret_name))

    def _endpoint_host(self) -> str:
        for endpoint_name in MANAGED_IDENTITY_ENDPOINTS:
            if os.environ.get(endpoint_name):
                try:
                    return urlsplit(os.environ[endpoint_name].strip()).netloc or endpoint_name
                except ValueError:
                    return endpoint_name
        return 'the Azure instance metadata service'

    def _create_app(self) -> Any:
        if self._settings.client_id:
            identity = self._msal.UserAssignedManagedIdentity(client_id=self._settings.client_id)
        else:
            identity = self._msal.SystemAssignedManagedIdentity()
        return self._msal.ManagedIdentityClient(identity, http_client=self._http, token_cache=self._token_cache)

    def _acquire(self, app: Any) -> dict:
        return app.acquire_token_for_client(resource=self._settings.graph_endpoint)

    def _drop_cached_tokens(self) -> None:
        access_token = self._msal.TokenCache.CredentialType.ACCESS_TOKEN
        query = {'client_id': self._settings.client_id or 'SYSTEM_ASSIGNED_MANAGED_IDENTITY'}
        for entry in list(self._token_cache.search(access_token, target=[self._settings.graph_endpoint], query=query)):
            self._token_cache.remove_at(entry)


_PEM_BLOCK = re.compile(rb'-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----', re.DOTALL)


def load_certificate_credential(path: str, password: Optional[str]) -> dict:
    """Read a PEM (key and certificate) or PKCS#12 file into msal's credential dict.

    The SHA-1 thumbprint is computed here, so users never have to supply it.
    """
    try:
        from cryptography import x509  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives.serialization import pkcs12  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MissingLibraryError('cryptography', 'auth_method certificate') from None

    try:
        with open(path, 'rb') as cert_file:
            data = cert_file.read()
    except OSError as exc:
        raise OptionError('client_certificate_path', 'a readable PEM or PKCS#12 file (%s)' % exc.strerror) from None

    secret = password.encode('utf-8') if password else None
    try:
        if data.lstrip().startswith(b'-----BEGIN'):
            blocks = [(match.group(1).decode(), match.group(0)) for match in _PEM_BLOCK.finditer(data)]
            key_pem = next((block for label, block in blocks if 'PRIVATE KEY' in label), None)
            certs = [x509.load_pem_x509_certificate(block) for label, block in blocks if label == 'CERTIFICATE']
            if key_pem is None or not certs:
                raise OptionError('client_certificate_path', 'a PEM file holding both the private key and the certificate')
            key = serialization.load_pem_private_key(key_pem, password=secret)
        else:
            key, cert, chain = pkcs12.load_key_and_certificates(data, secret)
            if key is None or cert is None:
                raise OptionError('client_certificate_path', 'a PKCS#12 file holding both the private key and the certificate')
            certs = [cert] + list(chain or [])
    except (TypeError, ValueError):
        # cryptography's messages here say "bad decrypt" or "password was not given";
        # the password itself is never part of them, and we do not repeat them anyway.
        raise OptionError(
            'client_certificate_password',
            'the password that opens %s (the file could not be decrypted or parsed; check the password and format)' % clip(path, 200),
        ) from None

    # A file may hold the whole chain: the app's certificate is the one that matches the key.
    public_key = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    cert = next((c for c in certs
                 if c.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == public_key),
                None)
    if cert is None:
        raise OptionError('client_certificate_path', 'a file whose certificate matches its private key, but none of its certificates does')

    return {
        'private_key': key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode('ascii'),
        'thumbprint': cert.fingerprint(hashes.SHA1()).hex().upper(),  # nosec: x5t is SHA-1 by definition
        'public_certificate': cert.public_bytes(serialization.Encoding.PEM).decode('ascii'),
    }


# auth_method: auto tries these in order; the first whose detect() is true is used.
CREDENTIALS: dict[str, type[Credential]] = {cls.method: cls for cls in (
    AccessTokenCredential,
    CertificateCredential,
    ClientSecretCredential,
    FederatedTokenCredential,
    ManagedIdentityCredential,
)}
AUTH_METHODS = ('auto',) + tuple(CREDENTIALS)


def resolve_credential_class(settings: GraphSettings, environ: Optional[Mapping[str, str]] = None) -> type[Credential]:
    """The class ``auth_method`` stands for (``auto``: the first method whose inputs are set)."""
    environ = os.environ if environ is None else environ
    if settings.auth_method != 'auto':
        return CREDENTIALS[settings.auth_method]
    for credential_class in CREDENTIALS.values():
        if credential_class.detect(settings, environ):
            return credential_class
    raise OptionError(
        'auth_method',
        'credentials for auth_method auto, but none are set: set access_token, client_certificate_path, client_secret '
        'or federated_token_file (or AZURE_CLIENT_CERTIFICATE_PATH, AZURE_CLIENT_SECRET or AZURE_SECRET, '
        'AZURE_FEDERATED_TOKEN_FILE), or set auth_method to managed_identity on an Azure VM')


def create_credential(settings: GraphSettings, http: EntraHttpClient, redactor: Redactor, token_store: Optional[TokenStore] = None,
                      environ: Optional[Mapping[str, str]] = None) -> Credential:
    """Validate the inputs of the chosen method and build its credential (no request is sent)."""
    environ = os.environ if environ is None else environ
    credential_class = resolve_credential_class(settings, environ)
    credential_class.validate(settings, environ)
    return credential_class(settings, http, redactor, token_store)
