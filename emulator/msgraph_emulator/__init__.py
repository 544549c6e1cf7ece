# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A local HTTPS emulator of Microsoft Graph's cross-tenant migration API, Entra ID's token endpoint and
App Service managed identity, for tests and runbook rehearsals. See emulator/README.md."""

from __future__ import annotations

from .faults import FaultError
from .server import Emulator
from .scenario import ScenarioError, default_scenario_path

__all__ = ['Emulator', 'FaultError', 'ScenarioError', 'default_scenario_path']
__version__ = '1.0.0'
