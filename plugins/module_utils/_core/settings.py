# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection settings of a module run, resolved and validated from its options.

The options themselves (argument spec, environment fallbacks) live in
``_ansible/argspec.py`` and are documented by the ``connection`` and ``auth``
doc fragments; change them together.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union
from urllib.parse import urlsplit

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import OptionError, clip

COLLECTION_NAME = 'msgraph.migrations'
COLLECTION_VERSION = '0.3.0'

API_VERSIONS = ('v1.0', 'beta')
MAX_RETRIES_LIMIT = 10
TIMEOUT_LIMIT_SECONDS = 3600.0

# The environment variables each option falls back to, in order (azure-identity's
# names first, then the ones AWX's built-in Azure credential injects).
OPTION_ENVIRONMENT: dict[str, tuple[str, ...]] = {
    'tenant_id': ('AZURE_TENANT_ID', 'AZURE_TENANT'),
    'client_id': ('AZURE_CLIENT_ID',),
    'client_secret': ('AZURE_CLIENT_SECRET', 'AZURE_SECRET'),
    'client_certificate_path': ('AZURE_CLIENT_CERTIFICATE_PATH',),
    'client_certificate_password': ('AZURE_CLIENT_CERTIFICATE_PASSWORD',),
    'federated_token_file': ('AZURE_FEDERATED_TOKEN_FILE',),
    'authority_host': ('AZURE_AUTHORITY_HOST',),
    'cloud': ('AZURE_CLOUD_ENVIRONMENT',),
}
# Where the token cache lives unless token_cache_path says otherwise (under $XDG_CACHE_HOME or ~/.cache).
TOKEN_CACHE_DIRECTORY = 'msgraph.migrations'
TOKEN_CACHE_FILE = 'msal-token-cache.json'
# CA bundles requests would read from the environment; honoured when ca_path is not set.
CA_BUNDLE_ENVIRONMENT = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')


def option_and_environment(option: str) -> str:
    """``option`` and the environment variables behind it, for messages."""
    names = OPTION_ENVIRONMENT.get(option)
    return '%s (or %s)' % (option, ' or '.join(names)) if names else option


@dataclass(frozen=True)
class Cloud:
    graph_endpoint: str
    authority_host: str


# Values from Microsoft's national cloud deployment table (see the API notes).
CLOUDS = {
    'global': Cloud('https://graph.microsoft.com', 'https://login.microsoftonline.com'),
    'usgov': Cloud('https://graph.microsoft.us', 'https://login.microsoftonline.us'),
    'usgov_dod': Cloud('https://dod-graph.microsoft.us', 'https://login.microsoftonline.us'),
    'china': Cloud('https://microsoftgraph.chinacloudapi.cn', 'https://login.chinacloudapi.cn'),
}

# Names used by AWX's Azure credential (AZURE_CLOUD_ENVIRONMENT) and azure.azcollection, lower-cased.
AZURE_CLOUD_NAMES = {
    'azurecloud': 'global',
    'azureusgovernment': 'usgov',
    'azureusgovernmentcloud': 'usgov',
    'azurechinacloud': 'china',
}
AZURE_CLOUD_DISPLAY_NAMES = ('AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud')

_HOST_NAME = re.compile(r'(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?')
# A host name or a bracketed IPv6 address (no zone id), then an optional port: nothing after the
# closing bracket, which urlsplit would otherwise drop without a word.
_NETLOC = re.compile(r'(?:\[[0-9A-Fa-f:.]+\]|[^\[\]:]+)(?::[0-9]*)?')
BASE_URL_SHAPE = 'https://host or https://host:port (no user name, password, path, query or fragment)'


def cloud_from_name(value: str) -> Optional[str]:
    """Our cloud name for ``value`` (ours or an Azure name, any case), or None."""
    name = value.strip().lower()
    if name in CLOUDS:
        return name
    return AZURE_CLOUD_NAMES.get(name)


def parse_base_url(option: str, value: Any, bare_host_allowed: bool = False) -> str:
    """``value`` as a canonical ``https://host[:port]``; anything else fails naming ``option``.

    The value is never repeated in the message when it holds a user name or password.
    """
    text = value.strip() if isinstance(value, str) else ''
    if bare_host_allowed and text and '://' not in text:
        # azure-identity's AZURE_AUTHORITY_HOST convention allows a bare host name.
        text = 'https://' + text
    shown = 'a value with a user name or password' if '@' in text else clip(text)
    expected = '%s, got %s' % (BASE_URL_SHAPE, shown)
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname or ''
    except ValueError:  # a malformed IPv6 literal or port
        raise OptionError(option, expected) from None
    if parts.scheme.lower() != 'https' or '@' in parts.netloc or parts.path not in ('', '/'):
        raise OptionError(option, expected)
    if '?' in text or '#' in text or port == 0 or not host:
        raise OptionError(option, expected)
    # urlsplit silently drops tabs and newlines and lower-cases non-ASCII letters into ASCII (the
    # Kelvin sign into k): only printable ASCII without inner whitespace is taken as written.
    if not text.isascii() or any(ch.isspace() or not ch.isprintable() for ch in text) or not _NETLOC.fullmatch(parts.netloc):
        raise OptionError(option, expected)
    if ':' in host:
        try:
            host = '[%s]' % ipaddress.IPv6Address(host).compressed
        except ValueError:
            raise OptionError(option, expected) from None
    elif not _HOST_NAME.fullmatch(host):
        raise OptionError(option, expected)
    return 'https://%s%s' % (host.rstrip('.'), ':%d' % port if port is not None and port != 443 else '')


def host_of(url: str) -> str:
    """The ``host[:port]`` part of a URL, for messages."""
    try:
        return urlsplit(url).netloc.rpartition('@')[2] or '(no host)'
    except ValueError:
        return '(unreadable URL)'


@dataclass(frozen=True)
class GraphSettings:
    """Everything a run needs to reach Graph, resolved and validated from module options."""

    graph_endpoint: str
    authority_host: str
    api_version: str
    verify: Union[bool, str]
    timeout: float
    max_retries: int
    auth_method: str
    tenant_id: Optional[str] = None
    client_id: Optional[str] = None
    client_secret: Optional[str] = None
    client_certificate_path: Optional[str] = None
    client_certificate_password: Optional[str] = None
    federated_token_file: Optional[str] = None
    access_token: Optional[str] = None
    token_cache_path: Optional[str] = None

    @property
    def graph_scope(self) -> str:
        """The client-credentials scope: it follows the Graph endpoint in use."""
        return self.graph_endpoint + '/.default'

    @property
    def graph_root(self) -> str:
        return '%s/%s' % (self.graph_endpoint, self.api_version)

    def __repr__(self) -> str:
        # Never let a secret reach a traceback or a debug print through repr().
        return 'GraphSettings(graph_endpoint=%r, authority_host=%r, api_version=%r, auth_method=%r)' % (
            self.graph_endpoint, self.authority_host, self.api_version, self.auth_method)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> 'GraphSettings':
        environ = os.environ if environ is None else environ
        cloud = CLOUDS[params['cloud']]
        graph_endpoint = (parse_base_url('graph_endpoint', params['graph_endpoint'])
                          if params.get('graph_endpoint') not in (None, '') else cloud.graph_endpoint)
        authority_host = (parse_base_url('authority_host', params['authority_host'], bare_host_allowed=True)
                          if params.get('authority_host') not in (None, '') else cloud.authority_host)

        timeout = params['timeout']
        if not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or not 0 < timeout <= TIMEOUT_LIMIT_SECONDS:
            raise OptionError('timeout', 'a number of seconds greater than 0 and at most %d, got %s'
                              % (TIMEOUT_LIMIT_SECONDS, clip(timeout)))
        max_retries = params['max_retries']
        if max_retries < 0 or max_retries > MAX_RETRIES_LIMIT:
            raise OptionError('max_retries', 'an integer from 0 to %d, got %r' % (MAX_RETRIES_LIMIT, max_retries))

        def text(name: str) -> Optional[str]:
            # Secrets pasted from vaults or YAML block scalars often end in a newline.
            value = params.get(name)
            value = value.strip() if isinstance(value, str) else value
            return value or None

        access_token = text('access_token')
        if access_token and (not access_token.isascii() or any(ch.isspace() or not ch.isprintable() for ch in access_token)):
            raise OptionError('access_token', 'a bearer token of ASCII characters without whitespace or control characters inside it')

        return cls(
            graph_endpoint=graph_endpoint,
            authority_host=authority_host,
            api_version=params['api_version'],
            verify=_resolve_verify(params, environ),
            timeout=float(timeout),
            max_retries=max_retries,
            auth_method=params['auth_method'],
            tenant_id=text('tenant_id'),
            client_id=text('client_id'),
            client_secret=text('client_secret'),
            client_certificate_path=text('client_certificate_path'),
            client_certificate_password=text('client_certificate_password'),
            federated_token_file=text('federated_token_file'),
            access_token=access_token,
            token_cache_path=(text('token_cache_path') or default_token_cache_path(environ)) if params.get('token_cache') else None,
        )


def default_token_cache_path(environ: Mapping[str, str]) -> str:
    """``$XDG_CACHE_HOME/msgraph.migrations/msal-token-cache.json`` (``~/.cache`` without XDG_CACHE_HOME)."""
    base = environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, TOKEN_CACHE_DIRECTORY, TOKEN_CACHE_FILE)


def _resolve_verify(params: Mapping[str, Any], environ: Mapping[str, str]) -> Union[bool, str]:
    """What to verify TLS with: ``ca_path``, else nothing (``validate_certs: false``), else the
    environment's CA bundle as requests would read it, else the default trust store.

    Resolved here because the HTTP session ignores the environment (see _http/transport.py).
    """
    ca_path = params.get('ca_path')
    if ca_path:
        if not os.path.isfile(ca_path):
            raise OptionError('ca_path', 'a readable CA bundle file, but %s does not exist' % clip(ca_path, 200))
        return ca_path if params['validate_certs'] else False
    if not params['validate_certs']:
        return False
    for name in CA_BUNDLE_ENVIRONMENT:
        bundle = environ.get(name)
        if bundle:
            return bundle
    return True
