# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # How to get a token; argspec in plugins/module_utils/_ansible/argspec.py, one class per
    # method in plugins/module_utils/_auth/credentials.py. Change them together.
    DOCUMENTATION = r'''
options:
  tenant_id:
    description:
      - The Entra ID tenant to authenticate in (a GUID or a domain name). For cross-tenant migrations this is the B(target) tenant.
      - Falls back to E(AZURE_TENANT_ID), then E(AZURE_TENANT) (set by the AWX built-in Azure credential).
      - Required for O(auth_method=client_secret), O(auth_method=certificate) and O(auth_method=federated_token).
    type: str
  client_id:
    description:
      - The application (client) id of the app registration.
      - With O(auth_method=managed_identity), the client id of a user-assigned managed identity; leave unset for the system-assigned one.
      - Falls back to E(AZURE_CLIENT_ID).
    type: str
  client_secret:
    description:
      - A client secret of the app registration.
      - Falls back to E(AZURE_CLIENT_SECRET), then E(AZURE_SECRET) (set by the AWX built-in Azure credential).
    type: str
  client_certificate_path:
    description:
      - Path to a PEM file holding the private key and the certificate, or to a PKCS#12 (C(.pfx), C(.p12)) file.
      - The certificate's thumbprint is computed from the file; it does not need to be given.
      - Falls back to E(AZURE_CLIENT_CERTIFICATE_PATH).
    type: path
  client_certificate_password:
    description:
      - Password of the private key in O(client_certificate_path), if it is encrypted.
      - Falls back to E(AZURE_CLIENT_CERTIFICATE_PASSWORD).
    type: str
  federated_token_file:
    description:
      - Path to a file holding a federated (workload identity) token, sent to Entra ID as the client assertion.
        The file is read at each token request, so a rotated token is picked up.
      - Falls back to E(AZURE_FEDERATED_TOKEN_FILE).
    type: path
  access_token:
    description:
      - A Graph access token obtained elsewhere. No token request is made, and the token cannot be refreshed.
    type: str
  auth_method:
    description:
      - How to get a token for Graph.
      - V(auto) picks the first method whose inputs are set, in the order O(access_token), O(client_certificate_path),
        O(client_secret), O(federated_token_file), then a managed identity if a managed identity endpoint
        (E(IDENTITY_ENDPOINT) or E(MSI_ENDPOINT)) is in the environment. With none of them it fails with a message
        saying what to set, rather than waiting on the Azure VM metadata endpoint.
      - V(managed_identity) uses the managed identity of the Azure host (App Service, Functions, Container Apps, Arc,
        or the VM metadata endpoint), system-assigned or, with O(client_id), user-assigned. The endpoint and its header
        come from E(IDENTITY_ENDPOINT) and E(IDENTITY_HEADER) (or E(MSI_ENDPOINT) and E(MSI_SECRET)), and are checked
        before any request.
    type: str
    default: auto
    choices: [auto, access_token, certificate, client_secret, federated_token, managed_identity]
  token_cache:
    description:
      - Whether to keep tokens in a cache file shared by every fork, task and play of the machine's user, so that a
        play gets one token however many tasks and hosts it runs (and a warm run makes no discovery request either).
      - With V(false), each task gets its own token.
      - Not used with O(access_token).
    type: bool
    default: true
  token_cache_path:
    description:
      - The token cache file. Its directory is created with mode C(0700) and the file with mode C(0600).
      - A cache file or directory with wider permissions, another owner, or that is a symbolic link is not used
        (the task warns and keeps its token in memory).
      - A cache file that is corrupt, in a shape msal cannot use, or larger than 4 MiB (the discovery cache beside it
        likewise) is not loaded; the task warns and the file is rebuilt with the next write.
      - When the lock file cannot be created or the cache cannot be read or written (a read-only or full disk), the task
        warns once and keeps its token in memory. A cache never fails a task.
      - The cache holds access tokens and Entra ID's public discovery document (kept only when its endpoints are https on
        the host of O(authority_host)), never a secret, certificate or assertion.
      - Defaults to C(msgraph.migrations/msal-token-cache.json) under E(XDG_CACHE_HOME), or under C(~/.cache) without it.
    type: path
notes:
  - Secrets (O(client_secret), O(client_certificate_password), O(access_token)), the federated token, the client
    assertion, the managed identity header and every token the module obtains are never returned or logged, at any
    verbosity, even when a server quotes the request back in an error. The one exception is ansible-core's own
    E(ANSIBLE_DEBUG=1), which prints module arguments as given; secrets from the C(AZURE_*) environment never appear there.
  - Failures on the way to Entra ID (TLS, connection, redirect) are reported as such, naming the host; only Entra ID's
    refusal is an authentication failure, with its C(AADSTS) code in C(error.code) of the failed task's result.
requirements:
  - msal (for every O(auth_method) except V(access_token))
  - msal-extensions (for O(token_cache))
  - cryptography (for O(auth_method=certificate))
'''
