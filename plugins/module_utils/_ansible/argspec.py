# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The options every module shares, and those several modules share.

Documented by the doc fragments ``msgraph.migrations.connection``,
``msgraph.migrations.auth`` and ``msgraph.migrations.cancel``; change both together.
"""

from __future__ import annotations

import math
import os
from typing import Any, Mapping

from ansible.module_utils.common.parameters import AnsibleFallbackNotFound

from ansible_collections.msgraph.migrations.plugins.module_utils._auth.credentials import AUTH_METHODS
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import OptionError, clip
from ansible_collections.msgraph.migrations.plugins.module_utils._core.settings import (
    API_VERSIONS,
    CLOUDS,
    OPTION_ENVIRONMENT,
    cloud_from_name,
)

DEFAULT_WAIT_TIMEOUT = 900
MAX_WAIT_TIMEOUT = 86400
# Every run's deadline: bounds every request, retry and Retry-After beneath it (not the wait, which has wait_timeout).
DEFAULT_TIMEOUT_TOTAL = 3600
MAX_TIMEOUT_TOTAL = 86400

# Environment values a fallback could not use, by variable name: reported by the module
# base as an error naming the variable (a fallback itself cannot fail with a message).
REJECTED_ENVIRONMENT: dict[str, str] = {}


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
    """Fallback for ``cloud``: our names and the Azure cloud names AWX sets, in any case."""
    value = non_empty_env(*names)
    cloud = cloud_from_name(value)
    if cloud is None:
        REJECTED_ENVIRONMENT[next(name for name in names if os.environ.get(name, '').strip())] = value
        raise AnsibleFallbackNotFound
    return cloud


def _env(option: str) -> tuple:
    return (non_empty_env, list(OPTION_ENVIRONMENT[option]))


def graph_argument_spec(**module_options: dict) -> dict:
    """The shared connection and authentication options plus the module's own ``module_options``."""
    REJECTED_ENVIRONMENT.clear()
    spec = dict(
        tenant_id=dict(type='str', fallback=_env('tenant_id')),
        client_id=dict(type='str', fallback=_env('client_id')),
        client_secret=dict(type='str', no_log=True, fallback=_env('client_secret')),
        client_certificate_path=dict(type='path', fallback=_env('client_certificate_path')),
        client_certificate_password=dict(type='str', no_log=True, fallback=_env('client_certificate_password')),
        federated_token_file=dict(type='path', fallback=_env('federated_token_file')),
        access_token=dict(type='str', no_log=True),
        auth_method=dict(type='str', default='auto', choices=list(AUTH_METHODS)),
        token_cache=dict(type='bool', default=True),
        token_cache_path=dict(type='path', no_log=False),
        cloud=dict(type='str', default='global', choices=list(CLOUDS), fallback=(cloud_env, list(OPTION_ENVIRONMENT['cloud']))),
        graph_endpoint=dict(type='str'),
        authority_host=dict(type='str', fallback=_env('authority_host')),
        api_version=dict(type='str', default='v1.0', choices=list(API_VERSIONS)),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='float', default=30),
        max_retries=dict(type='int', default=5),
        timeout_total=dict(type='float', default=DEFAULT_TIMEOUT_TOTAL),
    )
    spec.update(module_options)
    return spec


def cancel_options() -> dict[str, dict[str, Any]]:
    """``fail_on_conflict``, ``wait`` and ``wait_timeout``, shared by the cancel modules."""
    return dict(
        fail_on_conflict=dict(type='bool', default=False),
        wait=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=DEFAULT_WAIT_TIMEOUT),
    )


def check_wait_options(params: Mapping[str, Any]) -> None:
    """``wait_timeout`` must be usable when the module is to wait."""
    if params['wait'] and not 1 <= params['wait_timeout'] <= MAX_WAIT_TIMEOUT:
        raise OptionError('wait_timeout', 'a number of seconds from 1 to %d, got %d' % (MAX_WAIT_TIMEOUT, params['wait_timeout']))


def check_timeout_total(params: Mapping[str, Any]) -> float:
    """``timeout_total``: a finite number of seconds greater than 0 and at most MAX_TIMEOUT_TOTAL (``inf`` and ``nan`` parse as floats)."""
    value = params['timeout_total']
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT_TOTAL:
        raise OptionError('timeout_total', 'a number of seconds greater than 0 and at most %d, got %s' % (MAX_TIMEOUT_TOTAL, clip(value)))
    return float(value)
