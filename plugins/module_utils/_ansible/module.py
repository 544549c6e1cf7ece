# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The module base: what every Graph module does around its own work.

``GraphModule`` wraps (does not extend) an AnsibleModule. It builds the shared
argument spec, checks the libraries, resolves settings and the credential (no
request yet), runs the module's work, and turns every outcome into
``exit_json``/``fail_json``: the module's context (ids once validated) goes into
every result, and no string of a result leaves without being scrubbed of secrets.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable, NoReturn, Optional

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.argspec import REJECTED_ENVIRONMENT, check_timeout_total, graph_argument_spec
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.credentials import create_credential
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.entra_http import EntraHttpClient
from ansible_collections.msgraph.migrations.plugins.module_utils._auth.token_cache import open_token_cache
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError, MissingLibraryError, OptionError
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import Redactor
from ansible_collections.msgraph.migrations.plugins.module_utils._core.settings import AZURE_CLOUD_DISPLAY_NAMES, CLOUDS, GraphSettings
from ansible_collections.msgraph.migrations.plugins.module_utils._graph.client import GraphClient
from ansible_collections.msgraph.migrations.plugins.module_utils._http.retry import NO_DEADLINE, Deadline, RetryPolicy
from ansible_collections.msgraph.migrations.plugins.module_utils._http.transport import REQUESTS_IMPORT_ERROR, Transport


@dataclass
class GraphSession:
    """What a module's work gets: the settings and a ready (not yet authenticated) Graph client."""

    settings: GraphSettings
    client: GraphClient
    redactor: Redactor
    # Bounds every request of the run (timeout_total, from the session's start); a wait has its own (wait_timeout).
    deadline: Deadline = NO_DEADLINE


class GraphModule:
    """Composition around AnsibleModule for every module of the collection."""

    def __init__(self, argument_spec: dict[str, Any], supports_check_mode: bool = True, **module_kwargs: Any) -> None:
        self.ansible = AnsibleModule(argument_spec=graph_argument_spec(**argument_spec), supports_check_mode=supports_check_mode,
                                     **module_kwargs)
        self.params = self.ansible.params
        # Facts every result carries once they are known (validated ids): failures included.
        self.context: dict[str, Any] = {}
        self.redactor = Redactor(register=self.ansible.no_log_values.add)

    @property
    def check_mode(self) -> bool:
        return bool(self.ansible.check_mode)

    @property
    def diff_mode(self) -> bool:
        return bool(self.ansible._diff)  # pylint: disable=protected-access

    def warn(self, message: str) -> None:
        self.ansible.warn(self.redactor.scrub(message))

    def settings(self) -> GraphSettings:
        """The connection settings, validated (no request is sent)."""
        for name, value in REJECTED_ENVIRONMENT.items():
            raise OptionError('cloud', 'one of %s, or in the environment variable %s one of those or the Azure names %s; %s is %s'
                              % (', '.join(CLOUDS), name, ', '.join(AZURE_CLOUD_DISPLAY_NAMES), name, self.redactor.server_text(value, 40)))
        settings = GraphSettings.from_params(self.params)
        if settings.verify is False:
            self.warn('validate_certs is false: the TLS certificates of Graph and Entra ID are not checked, so anyone on the network path '
                      'could read the token and the credentials sent. Prefer ca_path with the CA bundle to trust.')
        return settings

    def open_session(self, pool_size: int = 1) -> tuple[GraphSession, Transport]:
        """Settings, transport, credential and client for this run: validated, nothing sent yet."""
        settings = self.settings()
        for secret in (settings.client_secret, settings.client_certificate_password, settings.access_token):
            self.redactor.add(secret)
        transport = Transport(settings.verify, settings.timeout, pool_size=pool_size)
        try:
            entra = EntraHttpClient(transport, RetryPolicy(settings.max_retries), self.redactor, self.warn)
            token_cache = open_token_cache(settings, self.warn)
            credential = create_credential(settings, entra, self.redactor, token_cache)
            client = GraphClient(settings, credential, transport, self.redactor, self.warn)
        except BaseException:
            transport.close()
            raise
        return GraphSession(settings, client, self.redactor, Deadline(check_timeout_total(self.params))), transport

    def run(self, work: Callable[[GraphSession], dict[str, Any]], validate: Optional[Callable[[], None]] = None,
            pool_size: int = 1) -> NoReturn:
        """Validate (module options first), open the session, run ``work`` and exit with its result.

        ``work`` returns the result (with ``changed``), or raises GraphMigrationsError,
        whose ``result`` fields go into the failure.
        """
        if REQUESTS_IMPORT_ERROR:
            self.ansible.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
        try:
            check_timeout_total(self.params)
            if validate is not None:
                validate()
            session, transport = self.open_session(pool_size)
            try:
                result = work(session)
            finally:
                transport.close()
        except MissingLibraryError as exc:
            self.fail(missing_required_lib(exc.library) + ' (%s)' % exc.message)
        except GraphMigrationsError as exc:
            self.fail(exc.message, **exc.result)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # A bug or a library surprise. Its text could quote a request (and so a token):
            # report the kind of error and where, never the text itself.
            self.fail('Unexpected %s in msgraph.migrations; please report it with the traceback shown at -vvv.' % type(exc).__name__,
                      exception=''.join(traceback.format_tb(exc.__traceback__)))
        self.exit(**result)

    def _result(self, fields: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {'changed': False}
        result.update(self.context)
        result.update(fields)
        return result

    def _scrubbed(self, fields: dict[str, Any]) -> dict[str, Any]:
        # Results carry server text (messages, errors, task and job bodies): every string, keys included,
        # goes through the redactor, so no field can quote a secret or a token (or a long piece of one).
        return self.redactor.scrub_data(self._result(fields))

    def exit(self, **fields: Any) -> NoReturn:
        self.ansible.exit_json(**self._scrubbed(fields))
        raise AssertionError('unreachable')  # exit_json does not return

    def fail(self, msg: str, **fields: Any) -> NoReturn:
        fields['msg'] = msg
        self.ansible.fail_json(**self._scrubbed(fields))
        raise AssertionError('unreachable')  # fail_json does not return
