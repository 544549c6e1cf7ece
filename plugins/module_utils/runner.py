# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every Graph module does around its own work: check libraries, resolve
settings and credentials (no request yet), run, turn errors into fail_json."""

from __future__ import annotations

import traceback
from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.msgraph.migrations.plugins.module_utils.auth import MissingLibraryError, create_credential
from ansible_collections.msgraph.migrations.plugins.module_utils.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils.graph_client import GraphClient
from ansible_collections.msgraph.migrations.plugins.module_utils.settings import GraphSettings
from ansible_collections.msgraph.migrations.plugins.module_utils.transport import REQUESTS_IMPORT_ERROR, Transport


def run_graph_module(module: AnsibleModule, action: Callable[[GraphClient], dict[str, Any]]) -> None:
    """Run ``action(client)`` and exit the module with its result (which holds ``changed``).

    ``action`` must validate its own options before its first request, so bad
    input fails before anything is sent.
    """
    if REQUESTS_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    try:
        settings = GraphSettings.from_params(module.params)
        transport = Transport(settings.verify, settings.timeout)
        try:
            credential = create_credential(settings, transport)
            client = GraphClient(settings, credential, transport, warn=module.warn, register_secret=module.no_log_values.add)
            result = action(client)
        finally:
            transport.close()
    except MissingLibraryError as exc:
        module.fail_json(msg=missing_required_lib(exc.library) + ' (%s)' % exc.message)
    except GraphMigrationsError as exc:
        result = dict(changed=False)
        result.update(exc.result)
        module.fail_json(msg=exc.message, **result)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # A bug or a library surprise. Its text could quote a request (and so a
        # token): report the kind of error and where, never the text itself.
        module.fail_json(msg='Unexpected %s in msgraph.migrations; please report it with the traceback shown at -vvv.'
                         % type(exc).__name__, exception=''.join(traceback.format_tb(exc.__traceback__)))
    module.exit_json(**result)
