# -*- coding: utf-8 -*-
# Copyright: msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test creates its virtual environments without pip and then runs a
``get-pip.py`` it downloads from a host these machines cannot reach.  It looks
for a cached copy first, at ``~/.ansible/test/cache/get_pip_<version>.py``;
``tools/install_get_pip_standin.py`` copies this file there.

Like the real script it is run with pip's command line arguments (for example
``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``).  It
bootstraps pip from the interpreter's bundled wheel (``ensurepip``) and then
installs the requested packages through the package index pip is configured
to use.
"""

import os
import subprocess
import sys

DROPPED = frozenset(('--no-setuptools', '--no-wheel'))


def main():
    args = [arg for arg in sys.argv[1:] if arg not in DROPPED]
    env = dict(os.environ)
    env.pop('GET_PIP', None)
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], env=env,
                          stdout=subprocess.DEVNULL)
    if args:
        subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args, env=env)
    sys.exit(0)


if __name__ == '__main__':
    main()
