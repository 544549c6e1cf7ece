# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Token acquisition: one small class per authentication method, all behind
``TokenCredential.get_token()``.

msal (and cryptography, for certificates) are imported only by the methods that
need them, so ``access_token`` runs and the sanity import test work without them.
Every msal-based credential takes an optional msal token cache, so a later file
cache shared by all forks of a play plugs in without touching the callers.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Optional

from ansible_collections.msgraph.migrations.plugins.module_utils.errors import (
    AuthenticationError,
    GraphMigrationsError,
    OptionError,
)
from ansible_collections.msgraph.migrations.plugins.module_utils.settings import GraphSettings
from ansible_collections.msgraph.migrations.plugins.module_utils.transport import MsalHttpClient, Transport

# Environment variables that show a managed identity endpoint other than the VM
# metadata service (App Service, Functions, Container Apps, Arc, Cloud Shell).
MANAGED_IDENTITY_ENV = ('IDENTITY_ENDPOINT', 'MSI_ENDPOINT')


class MissingLibraryError(GraphMigrationsError):
    def __init__(self, library: str, method: str) -> None:
        super().__init__('The Python library %s is required for auth_method %s.' % (library, method))
        self.library = library


def _import_msal(method: str) -> Any:
    try:
        import msal  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MissingLibraryError('msal', method) from None
    return msal


class TokenCredential:
    """Gives a bearer token for Graph. ``force_refresh`` drops any cached token."""

    method = ''
    can_refresh = True

    def get_token(self, force_refresh: bool = False) -> str:
        raise NotImplementedError


class AccessTokenCredential(TokenCredential):
    """A token obtained elsewhere; nothing to refresh, no msal call."""

    method = 'access_token'
    can_refresh = False

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, force_refresh: bool = False) -> str:
        return self._token


class _MsalCredential(TokenCredential):
    """Shared msal plumbing: cache, error translation, forced refresh."""

    def __init__(self, settings: GraphSettings, transport: Transport, token_cache: Any = None) -> None:
        self._settings = settings
        self._http_client = MsalHttpClient(transport)
        self._msal = _import_msal(self.method)
        self._cache = token_cache if token_cache is not None else self._msal.TokenCache()
        self._app: Any = None

    def _create_app(self) -> Any:
        raise NotImplementedError

    def _acquire(self, app: Any) -> dict:
        raise NotImplementedError

    def _drop_cached_tokens(self) -> None:
        access_token_type = self._msal.TokenCache.CredentialType.ACCESS_TOKEN
        for entry in list(self._cache.search(access_token_type)):
            self._cache.remove_at(entry)

    def get_token(self, force_refresh: bool = False) -> str:
        if force_refresh:
            self._drop_cached_tokens()
        try:
            if self._app is None:
                self._app = self._create_app()
            result = self._acquire(self._app)
        except GraphMigrationsError:
            raise
        except Exception as exc:  # msal raises ValueError and requests' errors alike
            # The exception text of msal/requests names URLs and reasons, not credentials.
            raise AuthenticationError(self.method, '%s: %s' % (type(exc).__name__, exc)) from None
        if not result or 'access_token' not in result:
            result = result or {}
            raise AuthenticationError(
                self.method,
                result.get('error_description') or 'no token and no error description in the reply',
                code=result.get('error'),
            )
        return result['access_token']


class _ConfidentialClientCredential(_MsalCredential):
    """Client credentials flow against ``{authority_host}/{tenant_id}``."""

    def _client_credential(self) -> Any:
        raise NotImplementedError

    def _create_app(self) -> Any:
        return self._msal.ConfidentialClientApplication(
            self._settings.client_id,
            client_credential=self._client_credential(),
            authority='%s/%s' % (self._settings.authority_host, self._settings.tenant_id),
            # Skips the call to the public instance discovery endpoint; the
            # authority is still checked through its OIDC discovery document.
            instance_discovery=False,
            http_client=self._http_client,
            token_cache=self._cache,
        )

    def _acquire(self, app: Any) -> dict:
        return app.acquire_token_for_client(scopes=[self._settings.graph_scope])


class ClientSecretCredential(_ConfidentialClientCredential):
    method = 'client_secret'

    def _client_credential(self) -> Any:
        return self._settings.client_secret


class CertificateCredential(_ConfidentialClientCredential):
    method = 'certificate'

    def __init__(self, settings: GraphSettings, transport: Transport, token_cache: Any = None) -> None:
        super().__init__(settings, transport, token_cache)
        # Loaded now so that a bad file or password fails before any request.
        self._credential = load_certificate_credential(settings.client_certificate_path, settings.client_certificate_password)

    def _client_credential(self) -> Any:
        return self._credential


class FederatedTokenCredential(_ConfidentialClientCredential):
    """Workload identity: the federated token is sent as the client assertion."""

    method = 'federated_token'

    def _client_credential(self) -> Any:
        # msal calls this for every token request, so a rotated file is picked up.
        return {'client_assertion': self._read_assertion}

    def _read_assertion(self) -> str:
        path = self._settings.federated_token_file
        try:
            with open(path, 'r', encoding='utf-8') as token_file:
                assertion = token_file.read().strip()
        except OSError as exc:
            raise OptionError('federated_token_file', 'a readable file holding the federated token (%s)' % exc.strerror) from None
        if not assertion:
            raise OptionError('federated_token_file', 'a file holding the federated token, but %s is empty' % path)
        return assertion


class ManagedIdentityCredential(_MsalCredential):
    """System-assigned, or user-assigned when ``client_id`` is set."""

    method = 'managed_identity'

    def _create_app(self) -> Any:
        if self._settings.client_id:
            identity = self._msal.UserAssignedManagedIdentity(client_id=self._settings.client_id)
        else:
            identity = self._msal.SystemAssignedManagedIdentity()
        return self._msal.ManagedIdentityClient(identity, http_client=self._http_client, token_cache=self._cache)

    def _acquire(self, app: Any) -> dict:
        return app.acquire_token_for_client(resource=self._settings.graph_endpoint)


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
        raise MissingLibraryError('cryptography', 'certificate') from None

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
            'the password that opens %s (the file could not be decrypted or parsed; check the password and format)' % path,
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


_REQUIRED_FOR_APP = ('tenant_id', 'client_id')
_METHOD_INPUT = {
    'client_secret': 'client_secret',
    'certificate': 'client_certificate_path',
    'federated_token': 'federated_token_file',
    'access_token': 'access_token',
}
_CREDENTIAL_CLASSES: dict[str, Callable[..., TokenCredential]] = {
    'client_secret': ClientSecretCredential,
    'certificate': CertificateCredential,
    'federated_token': FederatedTokenCredential,
    'managed_identity': ManagedIdentityCredential,
}


def resolve_auth_method(settings: GraphSettings, environ: Optional[dict] = None) -> str:
    """The method ``auth_method: auto`` stands for, given what is set."""
    if settings.auth_method != 'auto':
        return settings.auth_method
    if settings.access_token:
        return 'access_token'
    if settings.client_certificate_path:
        return 'certificate'
    if settings.client_secret:
        return 'client_secret'
    if settings.federated_token_file:
        return 'federated_token'
    environ = os.environ if environ is None else environ
    if any(environ.get(name) for name in MANAGED_IDENTITY_ENV):
        return 'managed_identity'
    # Without any of these, trying the VM metadata endpoint would hang for the
    # whole timeout on any machine that is not an Azure VM: ask instead.
    raise GraphMigrationsError(
        'No credentials found for auth_method auto: set access_token, client_certificate_path, client_secret '
        'or federated_token_file (or AZURE_CLIENT_CERTIFICATE_PATH, AZURE_CLIENT_SECRET/AZURE_SECRET, '
        'AZURE_FEDERATED_TOKEN_FILE), or set auth_method to managed_identity on an Azure VM.'
    )


def create_credential(settings: GraphSettings, transport: Transport, token_cache: Any = None) -> TokenCredential:
    """Validate the inputs of the chosen method and build its credential (no request is sent)."""
    method = resolve_auth_method(settings)
    needed_input = _METHOD_INPUT.get(method)
    if needed_input and not getattr(settings, needed_input):
        raise OptionError(needed_input, 'a value for auth_method %s' % method)
    if method == 'access_token':
        return AccessTokenCredential(settings.access_token)
    if method != 'managed_identity':
        for option in _REQUIRED_FOR_APP:
            if not getattr(settings, option):
                raise OptionError(option, 'a value (or its AZURE_* environment variable) for auth_method %s' % method)
    if method == 'federated_token' and not os.path.isfile(settings.federated_token_file):
        raise OptionError('federated_token_file', 'an existing file holding the federated token, but %s does not exist'
                          % settings.federated_token_file)
    return _CREDENTIAL_CLASSES[method](settings, transport, token_cache)
