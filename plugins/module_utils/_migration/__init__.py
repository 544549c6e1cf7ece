# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Migration resources layer: jobs and tasks, their states, and what each reply to a cancel means, as data.

PRIVATE to the msgraph.migrations collection: it may change in any release.
Do not import it from other collections, roles or your own modules.
"""
