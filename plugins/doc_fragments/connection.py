# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Where Graph and Entra ID are and how to reach them; argspec in
    # plugins/module_utils/_ansible/argspec.py (graph_argument_spec). Change both together.
    DOCUMENTATION = r'''
options:
  cloud:
    description:
      - The Microsoft cloud, which sets both the Graph endpoint and the login host (and so the token scope).
      - V(global) is C(https://graph.microsoft.com) with C(https://login.microsoftonline.com);
        V(usgov) is C(https://graph.microsoft.us) with C(https://login.microsoftonline.us);
        V(usgov_dod) is C(https://dod-graph.microsoft.us) with C(https://login.microsoftonline.us);
        V(china) is C(https://microsoftgraph.chinacloudapi.cn) with C(https://login.chinacloudapi.cn).
      - Falls back to E(AZURE_CLOUD_ENVIRONMENT), which also accepts the Azure names C(AzureCloud),
        C(AzureUSGovernment) and C(AzureChinaCloud) as set by AWX, in any case. Any other value in that variable
        fails the task, naming the variable.
      - Microsoft documents the cross-tenant migration API for the global cloud only.
    type: str
    default: global
    choices: [global, usgov, usgov_dod, china]
  graph_endpoint:
    description:
      - Overrides the Graph base URL set by O(cloud), for example V(https://127.0.0.1:8443) for the emulator.
      - Only C(https://host) or C(https://host:port), with an optional trailing slash. A user name or password, a path,
        a query, a fragment, a bad port or a malformed IPv6 address fails the task before any request.
      - The token scope follows it (C(<graph_endpoint>/.default)).
    type: str
  authority_host:
    description:
      - Overrides the login host set by O(cloud), for example V(https://127.0.0.1:8443).
      - Only C(https://host) or C(https://host:port), as for O(graph_endpoint); a bare host name gets C(https://),
        as azure-identity does for E(AZURE_AUTHORITY_HOST).
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
      - Whether to verify the TLS certificates of Graph and the login host. V(false) warns at every run; prefer O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM) to trust for Graph and login requests alike, for example behind a TLS-inspecting proxy or for the emulator.
      - It is passed with every request, so it wins over E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE), which are used
        (as requests would) only when O(ca_path) is not set.
    type: path
  timeout:
    description:
      - Seconds one HTTP request may take, from connecting to the last byte of the reply (a reply that trickles in
        is cut off there). Retries each get their own O(timeout).
      - A number greater than 0 and at most 3600.
    type: float
    default: 30
  max_retries:
    description:
      - How many times to send a request again after it was throttled (429), met a failing or unavailable service
        (500, 502, 503, 504), lost its connection or timed out, from 0 to 10. The token endpoint and the managed
        identity endpoint are retried by the same rule.
      - Each wait honours C(Retry-After) (integer, decimal or HTTP date) or backs off exponentially with jitter without
        it. A C(Retry-After) of 180 seconds or more is not waited for; the request fails and says when to try again.
    type: int
    default: 5
  timeout_total:
    description:
      - Seconds the whole run may take, from the module's start, whatever it does - token requests, reads, listings of
        any number of pages, C($batch) requests, and every retry and C(Retry-After) wait beneath them. No retry starts
        whose wait would pass it, and no request runs past it.
      - When it passes, the module stops and reports what was done before - with
        O(msgraph.migrations.crosstenant_migration_task_cancel#module:task_ids), a result for every task (those not
        settled fail, saying why); for a listing, how many pages had been read. The failure says that O(timeout_total)
        was reached.
      - It does not bound the wait of O(msgraph.migrations.crosstenant_migration_task_cancel#module:wait=true), which
        has its own O(msgraph.migrations.crosstenant_migration_task_cancel#module:wait_timeout) starting when the
        cancel has been answered; a run that waits takes at most O(timeout_total) plus
        O(msgraph.migrations.crosstenant_migration_task_cancel#module:wait_timeout).
      - A number greater than 0 and at most 86400, checked before any request.
    type: float
    default: 3600
    version_added: 0.3.0
notes:
  - All options of this group can be set once for a play with C(module_defaults) and the action group
    C(group/msgraph.migrations.graph).
  - Redirects are never followed (Graph and Entra ID do not redirect these requests; a proxy or a wrong endpoint does).
    A redirect fails the task, naming the status and the redirect's host.
  - A reply larger than 16 MiB fails the task (no Graph or Entra ID reply is that large), having read no more of it.
  - Proxies are taken from E(HTTPS_PROXY) and E(NO_PROXY). Credentials from C(.netrc) are never used.
requirements:
  - requests
'''
