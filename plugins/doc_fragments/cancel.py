# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Options of the cancel modules; argspec in plugins/module_utils/_ansible/argspec.py (cancel_options).
    DOCUMENTATION = r'''
options:
  fail_on_conflict:
    description:
      - What to do when Graph refuses the cancel with 409 because it is too late (RV(conflict_reason=not_cancellable),
        that is a workload has cut over, completed, failed or is finalizing, or the job no longer allows it).
      - With V(false), the task is C(ok) and not changed, with RV(conflict=true) and a warning.
      - With V(true), the task fails.
      - A 409 because the cancel is already done (RV(conflict_reason=already_cancelled), that is every workload is
        C(pendingCancel) or C(cancelled)) is the state asked for, so the task is C(ok), not changed, with RV(conflict=true),
        whatever this option says. So a rerun of any runbook step is safe.
    type: bool
    default: false
  wait:
    description:
      - Whether to wait, after the cancel, until nothing cancelled is C(pendingCancel) any more (Graph moves it to
        C(cancelled)), polling with backoff.
      - Waits for what this run cancelled and for what was already C(pendingCancel). The result then shows the final state.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait with O(wait=true). It bounds the whole task, the cancel's own retries included.
      - When it passes with something still C(pendingCancel), the task fails naming it (the cancel itself was accepted).
    type: int
    default: 900
'''
