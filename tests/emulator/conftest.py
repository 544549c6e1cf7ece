# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures for the Graph emulator's own tests: an emulator per test and HTTP clients that trust its CA.

The emulator package lives in emulator/ (not installed): it is put on sys.path here."""

from __future__ import annotations

import copy
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'emulator'))

from emu_helpers import APP, TENANT, WRITE_ROLE, CASession, scenario  # noqa: E402  pylint: disable=wrong-import-position
from msgraph_emulator import Emulator  # noqa: E402  pylint: disable=wrong-import-position
from msgraph_emulator.tls import make_app_certificate  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='session')
def app_cert(tmp_path_factory):
    """A self-signed RSA certificate: (cert PEM, key PEM, SHA-1 thumbprint hex)."""
    from cryptography.hazmat.primitives import hashes, serialization

    del tmp_path_factory
    key, cert = make_app_certificate('emulator-test-app', days=1)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return cert_pem, key_pem, cert.fingerprint(hashes.SHA1()).hex()


@pytest.fixture
def emu(tmp_path, app_cert):
    """A running emulator on the test scenario, with a request log file."""
    with Emulator(scenario=copy.deepcopy(scenario(app_cert[0])), ca_file=str(tmp_path / 'ca.pem'), request_log=str(tmp_path / 'requests.jsonl')) as server:
        yield server


@pytest.fixture
def http(emu):
    """A session that trusts the emulator."""
    with CASession(emu.ca_file) as session:
        yield session


@pytest.fixture
def token(emu):
    """A read/write token for TENANT."""
    return emu.mint_token(TENANT, APP, [WRITE_ROLE])
