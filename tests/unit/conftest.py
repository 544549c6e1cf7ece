# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every unit test runs in an environment of its own: no Azure variables, proxies or CA
bundles from the machine, and a home and cache directory under the test's tmp_path."""

from __future__ import annotations

import os

import pytest

_CLEARED_PREFIXES = ('AZURE_', 'IDENTITY_', 'MSI_')
_CLEARED = ('HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'NO_PROXY', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'NETRC',
            'IMDS_ENDPOINT', 'XDG_CACHE_HOME')


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path):
    """Clear what the machine's environment would add; point HOME and XDG_CACHE_HOME at tmp_path."""
    for name in list(os.environ):
        if name.upper().startswith(_CLEARED_PREFIXES) or name.upper() in _CLEARED:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setenv('HOME', str(home))
    monkeypatch.setenv('XDG_CACHE_HOME', str(home / '.cache'))
    return home
