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
        C(cancelled)), polling with backoff (after 1, 2, 4 and 8 seconds, then every 15 seconds).
      - Waits for what this run cancelled and for what was already C(pendingCancel). The result then shows the final state,
        and RV(wait) how the wait ended.
      - The wait never changes the cancels' results. When it does not settle - O(wait_timeout) passes with something still
        C(pendingCancel), a read during the wait fails (for example 403, 404, 500, a link to another host, no time left),
        or a task waited for is no longer in the job's listing - the task fails with RV(wait.status) saying which, and
        keeps every cancel's result (C(changed) is true when a cancel was accepted).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait with O(wait=true), counted from when the cancel was answered. The last poll is at O(wait_timeout),
        so a cancel that finishes just before it is seen; a poll under way then may finish (each request is bounded by O(timeout)).
      - The cancel and its retries are bounded by O(timeout_total), not by this; the run takes at most O(timeout_total)
        plus O(wait_timeout).
      - From 1 to 86400.
    type: int
    default: 900
'''
