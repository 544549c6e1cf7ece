# Copyright: msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Put the offline get-pip stand-in where ansible-test looks for it.

    python3 tools/install_get_pip_standin.py HOME_DIR VENV_DIR [VENV_DIR ...]

For each virtualenv holding ansible-core, read the pip versions its
ansible-test bootstraps (from ansible-test's own source) and copy
``tools/get_pip_standin.py`` to ``HOME_DIR/.ansible/test/cache/get_pip_<version>.py``.
"""

import glob
import os
import re
import shutil
import sys

PATTERNS = (
    re.compile(r"""\bpip\s*=\s*['"]([0-9][0-9.]*)['"]"""),
    re.compile(r"""['"]pip['"]\s*:\s*['"]([0-9][0-9.]*)['"]"""),
)


def pip_versions(venv):
    sources = glob.glob(os.path.join(
        venv, 'lib', 'python3*', 'site-packages', 'ansible_test', '_internal', 'python_requirements.py'))
    if not sources:
        sys.exit('install_get_pip_standin: no ansible-test in %s' % venv)
    found = set()
    for path in sources:
        with open(path, encoding='utf-8') as handle:
            source = handle.read()
        for pattern in PATTERNS:
            found.update(pattern.findall(source))
    if not found:
        sys.exit('install_get_pip_standin: no pip version found in %s' % ', '.join(sources))
    return found


def main():
    if len(sys.argv) < 3:
        sys.exit('usage: install_get_pip_standin.py HOME_DIR VENV_DIR [VENV_DIR ...]')
    cache = os.path.join(sys.argv[1], '.ansible', 'test', 'cache')
    os.makedirs(cache, exist_ok=True)
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'get_pip_standin.py')
    versions = set()
    for venv in sys.argv[2:]:
        versions |= pip_versions(venv)
    for version in sorted(versions):
        target = os.path.join(cache, 'get_pip_%s.py' % version.replace('.', '_'))
        shutil.copyfile(source, target)


if __name__ == '__main__':
    main()
