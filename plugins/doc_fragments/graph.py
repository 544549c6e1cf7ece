# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The shared connection and authentication options; argspec in
    # plugins/module_utils/settings.py (graph_argument_spec). Change both together.
    DOCUMENTATION = r'''
options:
  tenant_id:
    description:
      - The Entra ID tenant to authenticate in. For cross-tenant migrations this is the B(target) tenant.
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
        or the VM metadata endpoint), system-assigned or, with O(client_id), user-assigned.
    type: str
    default: auto
    choices: [auto, client_secret, certificate, federated_token, managed_identity, access_token]
  cloud:
    description:
      - The Microsoft cloud, which sets both the Graph endpoint and the login host (and so the token scope).
      - V(global) is C(https://graph.microsoft.com) with C(https://login.microsoftonline.com);
        V(usgov) is C(https://graph.microsoft.us) with C(https://login.microsoftonline.us);
        V(usgov_dod) is C(https://dod-graph.microsoft.us) with C(https://login.microsoftonline.us);
        V(china) is C(https://microsoftgraph.chinacloudapi.cn) with C(https://login.chinacloudapi.cn).
      - Falls back to E(AZURE_CLOUD_ENVIRONMENT), which also accepts the Azure names C(AzureCloud),
        C(AzureUSGovernment) and C(AzureChinaCloud) as set by AWX.
      - Microsoft documents the cross-tenant migration API for the global cloud only.
    type: str
    default: global
    choices: [global, usgov, usgov_dod, china]
  graph_endpoint:
    description:
      - Overrides the Graph base URL set by O(cloud), for example V(https://127.0.0.1:8443) for the emulator.
      - The token scope follows it (C(<graph_endpoint>/.default)). Must be an C(https) URL.
    type: str
  authority_host:
    description:
      - Overrides the login host set by O(cloud), for example V(https://127.0.0.1:8443). Must be an C(https) URL.
      - Falls back to E(AZURE_AUTHORITY_HOST).
    type: str
  api_version:
    description:
      - The Graph API version. V(beta) is deprecated for this API by Microsoft.
    type: str
    default: v1.0
    choices: [v1.0, beta]
  validate_certs:
    description:
      - Whether to verify TLS certificates of Graph and the login host. Only set to V(false) on a trusted network.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM) to trust for Graph and login requests alike, for example behind a TLS-inspecting proxy or for the emulator.
      - It is passed with every request, so it wins over E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE).
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: float
    default: 30
  max_retries:
    description:
      - How many times to retry a request that was throttled (429), met an unavailable service (503, 504),
        a lost connection or a read timeout, from 0 to 10.
      - Each wait honours the C(Retry-After) header (at most 120 seconds), or backs off exponentially with jitter without it.
    type: int
    default: 5
notes:
  - All options of this group can be set once for a play with
    C(module_defaults) and the action group C(group/msgraph.migrations.graph).
  - Secrets (O(client_secret), O(client_certificate_password), O(access_token)) and the tokens the module obtains
    are never returned or logged.
requirements:
  - requests
  - msal (for every O(auth_method) except V(access_token))
  - cryptography (for O(auth_method=certificate))
'''
