# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The built collection: ansible-galaxy collection build, install, and a run from the
installed copy alone (no dependence on the source tree)."""

from __future__ import annotations

import os
import subprocess
import tarfile

from conftest import BIN, REPO


def test_built_tarball_installs_and_runs_from_the_installed_path(harness, tmp_path):
    dist = tmp_path / 'dist'
    env = harness.base_env()
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', REPO, '--output-path', str(dist)],
                   check=True, env=env, capture_output=True, timeout=120)
    tarball = next(dist.glob('msgraph-migrations-*.tar.gz'))
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert 'plugins/modules/crosstenant_migration_task_cancel.py' in names
    assert 'meta/runtime.yml' in names and 'requirements.txt' in names
    not_shipped = ('emulator', 'build', '.venv', '.venv-gates', '.ansible', '.ci', 'scripts', 'tools', 'mk', 'Makefile')
    leaked = [n for n in names if n.split('/')[0] in not_shipped or n.startswith('tests/output') or '__pycache__' in n]
    assert leaked == []

    installed = tmp_path / 'installed'
    env['ANSIBLE_COLLECTIONS_PATH'] = str(installed)  # not the source tree's link, or galaxy sees it as installed
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', str(tarball), '-p', str(installed)],
                   check=True, env=env, capture_output=True, timeout=120)
    module = installed / 'ansible_collections' / 'msgraph' / 'migrations' / 'plugins' / 'modules' / 'crosstenant_migration_task_cancel.py'
    assert module.is_file() and not module.is_symlink()

    run = harness.play([harness.cancel_task()], collections_path=str(installed), args=('-vvv',))
    assert run.rc == 0, run.output
    assert run.result()['changed'] is True
    assert str(installed) in run.stdout, 'the module ran from the installed copy'
