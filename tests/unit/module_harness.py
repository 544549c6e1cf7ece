# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Running a module in-process: its arguments, exit_json/fail_json as exceptions carrying the
result, warnings recorded, and the HTTP transport replaced by a recording fake."""

from __future__ import annotations

import contextlib
import json
from typing import Any, Callable, Iterator, Optional
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible import module as module_base
from ansible_collections.msgraph.migrations.tests.unit.fakes import FakeTransport, Sent

try:
    from ansible.module_utils.testing import patch_module_args  # ansible-core 2.19+
except ImportError:  # ansible-core 2.17 and 2.18
    patch_module_args = None


class ExitJson(Exception):
    """exit_json was called; ``result`` holds its keyword arguments."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result.get('msg', 'exit_json'))
        self.result = result


class FailJson(Exception):
    """fail_json was called; ``result`` holds its keyword arguments."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result.get('msg'))
        self.result = result


@contextlib.contextmanager
def module_args(args: dict[str, Any]) -> Iterator[None]:
    """Expose ``args`` to the AnsibleModule created inside, on any supported ansible-core."""
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
    else:
        with mock.patch.object(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode('utf-8')):
            yield


class Harness:
    """Patches AnsibleModule's exits and warnings, and the transport the module base builds."""

    def __init__(self, monkeypatch: Any, handler: Optional[Callable[[Sent], Any]] = None) -> None:
        self.warnings: list[str] = []
        self.transports: list[FakeTransport] = []
        self.transport_args: list[tuple[Any, ...]] = []
        self.handler = handler
        self.no_log_values: set[str] = set()

        def exit_json(ansible_module: AnsibleModule, **result: Any) -> None:
            self.no_log_values = set(ansible_module.no_log_values)
            raise ExitJson(result)

        def fail_json(ansible_module: AnsibleModule, msg: str, **result: Any) -> None:
            self.no_log_values = set(ansible_module.no_log_values)
            result['msg'] = msg
            raise FailJson(result)

        def transport(verify: Any, timeout: float, pool_size: int = 1) -> FakeTransport:
            self.transport_args.append((verify, timeout, pool_size))
            fake = FakeTransport(handler=self._answer)
            self.transports.append(fake)
            return fake

        monkeypatch.setattr(AnsibleModule, 'exit_json', exit_json)
        monkeypatch.setattr(AnsibleModule, 'fail_json', fail_json)
        monkeypatch.setattr(AnsibleModule, 'warn', lambda ansible_module, warning: self.warnings.append(warning))
        monkeypatch.setattr(module_base, 'Transport', transport)

    def _answer(self, sent: Sent) -> Any:
        if self.handler is None:
            raise AssertionError('no request was expected: %s %s' % (sent.method, sent.url))
        return self.handler(sent)

    @property
    def sent(self) -> list[Sent]:
        return [request for transport in self.transports for request in transport.sent]

    def run(self, main: Callable[[], Any], args: dict[str, Any]) -> dict[str, Any]:
        """Run ``main`` with ``args``; the result of exit_json, or FailJson raised."""
        with module_args(args):
            try:
                main()
            except ExitJson as exc:
                return exc.result
        raise AssertionError('the module returned without exit_json or fail_json')
