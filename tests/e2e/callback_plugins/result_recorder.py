# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Test-only callback: appends every task result, as the module returned it, to
the JSONL file named by E2E_RESULTS_FILE, so tests assert on results, not on text."""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: result_recorder
type: aggregate
short_description: Records task results for the end-to-end tests
description: Appends each task result to the JSONL file named by E2E_RESULTS_FILE.
requirements:
  - enable in configuration
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'result_recorder'
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get('E2E_RESULTS_FILE')
        if not path:
            return
        entry = {'task': result.task_name if hasattr(result, 'task_name') else result._task.get_name(),
                 'status': status, 'result': result._result}
        with open(path, 'a', encoding='utf-8') as results:
            results.write(json.dumps(entry, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')
