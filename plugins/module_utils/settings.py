# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection options shared by every module: the argspec helper, environment
fallbacks, national clouds and the resolved settings a module run works with.

The matching documentation lives in the ``msgraph.migrations.graph`` doc fragment;
change both together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional, Union
from urllib.parse import urlsplit

from ansible.module_utils.common.parameters import AnsibleFallbackNotFound

from ansible_collections.msgraph.migrations.plugins.module_utils.errors import OptionError

COLLECTION_NAME = 'msgraph.migrations'
COLLECTION_VERSION = '0.1.0'

API_VERSIONS = ('v1.0', 'beta')
AUTH_METHODS = ('auto', 'client_secret', 'certificate', 'federated_token', 'managed_identity', 'access_token')
MAX_RETRIES_LIMIT = 10


@dataclass(frozen=True)
class Cloud:
    graph_endpoint: str
    authority_host: str


# Values from Microsoft's national cloud deployment table (see docs/ and the API notes).
CLOUDS = {
    'global': Cloud('https://graph.microsoft.com', 'https://login.microsoftonline.com'),
    'usgov': Cloud('https://graph.microsoft.us', 'https://login.microsoftonline.us'),
    'usgov_dod': Cloud('https://dod-graph.microsoft.us', 'https://login.microsoftonline.us'),
    'china': Cloud('https://microsoftgraph.chinacloudapi.cn', 'https://login.chinacloudapi.cn'),
}

# Names used by AWX's Azure credential (AZURE_CLOUD_ENVIRONMENT) and azure.azcollection.
AZURE_CLOUD_NAMES = {
    'azurecloud': 'global',
    'azureusgovernment': 'usgov',
    'azureusgovernmentcloud': 'usgov',
    'azurechinacloud': 'china',
}


def non_empty_env(*names: str) -> str:
    """Fallback: the first of ``names`` set to a non-empty value.

    AWX credential injectors render unset optional fields as empty strings, which
    must not count as "set" (they would pick the wrong auth method).
    """
    for name in names:
        value = os.environ.get(name, '')
        if value.strip():
            return value
    raise AnsibleFallbackNotFound


def cloud_env(*names: str) -> str:
    """Fallback for ``cloud``: accepts our names and the Azure cloud names."""
    value = non_empty_env(*names).strip()
    return AZURE_CLOUD_NAMES.get(value.lower(), value.lower())


def graph_argument_spec(**module_options: dict) -> dict:
    """The shared connection options plus the module's own ``module_options``."""
    spec = dict(
        tenant_id=dict(type='str', fallback=(non_empty_env, ['AZURE_TENANT_ID', 'AZURE_TENANT'])),
        client_id=dict(type='str', fallback=(non_empty_env, ['AZURE_CLIENT_ID'])),
        client_secret=dict(type='str', no_log=True, fallback=(non_empty_env, ['AZURE_CLIENT_SECRET', 'AZURE_SECRET'])),
        client_certificate_path=dict(type='path', fallback=(non_empty_env, ['AZURE_CLIENT_CERTIFICATE_PATH'])),
        client_certificate_password=dict(type='str', no_log=True, fallback=(non_empty_env, ['AZURE_CLIENT_CERTIFICATE_PASSWORD'])),
        federated_token_file=dict(type='path', fallback=(non_empty_env, ['AZURE_FEDERATED_TOKEN_FILE'])),
        access_token=dict(type='str', no_log=True),
        auth_method=dict(type='str', default='auto', choices=list(AUTH_METHODS)),
        cloud=dict(type='str', default='global', choices=list(CLOUDS), fallback=(cloud_env, ['AZURE_CLOUD_ENVIRONMENT'])),
        graph_endpoint=dict(type='str'),
        authority_host=dict(type='str', fallback=(non_empty_env, ['AZURE_AUTHORITY_HOST'])),
        api_version=dict(type='str', default='v1.0', choices=list(API_VERSIONS)),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='float', default=30),
        max_retries=dict(type='int', default=5),
    )
    spec.update(module_options)
    return spec


def _https_base_url(option: str, value: str, default_scheme: bool = False) -> str:
    value = value.strip()
    if default_scheme and '://' not in value:
        # azure-identity's AZURE_AUTHORITY_HOST convention allows a bare host name.
        value = 'https://' + value
    parts = urlsplit(value)
    if parts.scheme != 'https' or not parts.hostname or parts.query or parts.fragment:
        raise OptionError(option, 'an https:// URL such as https://graph.microsoft.com, got %r' % value)
    return value.rstrip('/')


@dataclass(frozen=True)
class GraphSettings:
    """Everything a run needs to reach Graph, resolved and validated from module params."""

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
    def from_params(cls, params: dict[str, Any]) -> 'GraphSettings':
        cloud = CLOUDS[params['cloud']]
        graph_endpoint = _https_base_url('graph_endpoint', params['graph_endpoint']) if params.get('graph_endpoint') else cloud.graph_endpoint
        authority_host = (_https_base_url('authority_host', params['authority_host'], default_scheme=True)
                          if params.get('authority_host') else cloud.authority_host)

        timeout = params['timeout']
        if not timeout or timeout <= 0:
            raise OptionError('timeout', 'a number of seconds greater than 0, got %r' % timeout)
        max_retries = params['max_retries']
        if max_retries < 0 or max_retries > MAX_RETRIES_LIMIT:
            raise OptionError('max_retries', 'an integer from 0 to %d, got %r' % (MAX_RETRIES_LIMIT, max_retries))

        ca_path = params.get('ca_path')
        if ca_path and not os.path.isfile(ca_path):
            raise OptionError('ca_path', 'a readable CA bundle file, but %s does not exist' % ca_path)
        verify: Union[bool, str] = True
        if not params['validate_certs']:
            verify = False
        elif ca_path:
            verify = ca_path

        def text(name: str) -> Optional[str]:
            # Secrets pasted from vaults or YAML block scalars often end in a newline.
            value = params.get(name)
            value = value.strip() if isinstance(value, str) else value
            return value or None

        access_token = text('access_token')
        if access_token and any(ch.isspace() for ch in access_token):
            raise OptionError('access_token', 'a bearer token without whitespace inside it')

        return cls(
            graph_endpoint=graph_endpoint,
            authority_host=authority_host,
            api_version=params['api_version'],
            verify=verify,
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
        )
