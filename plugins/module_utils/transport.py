# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one HTTP session of a module run, shared by Graph calls and msal.

``requests`` lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override a CA set on a
Session; only ``verify=`` passed with each request wins. So every request made
here, msal's included, passes ``verify`` and ``timeout`` explicitly.
"""

from __future__ import annotations

import traceback
from typing import Any, Union

REQUESTS_IMPORT_ERROR = None
try:
    import requests
except ImportError:  # reported by the module with missing_required_lib()
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.msgraph.migrations.plugins.module_utils.settings import COLLECTION_NAME, COLLECTION_VERSION

USER_AGENT = '%s/%s (Ansible collection)' % (COLLECTION_NAME, COLLECTION_VERSION)


class Transport:
    """A requests session that pins TLS verification and timeout on every request."""

    def __init__(self, verify: Union[bool, str], timeout: float) -> None:
        self.verify = verify
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers['User-Agent'] = '%s python-requests/%s' % (USER_AGENT, requests.__version__)
        if verify is False:
            # The user chose validate_certs=false; the warning per request adds nothing.
            requests.packages.urllib3.disable_warnings()

    def request(self, method: str, url: str, **kwargs: Any) -> 'requests.Response':
        kwargs['verify'] = self.verify
        kwargs.setdefault('timeout', self.timeout)
        return self.session.request(method, url, **kwargs)

    def close(self) -> None:
        self.session.close()


class MsalHttpClient:
    """The ``http_client`` msal expects (``get``/``post``/``close``), on our Transport."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def get(self, url: str, **kwargs: Any) -> 'requests.Response':
        return self._transport.request('GET', url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> 'requests.Response':
        return self._transport.request('POST', url, **kwargs)

    def close(self) -> None:
        """The session belongs to the module run, which closes it."""
