# Copyright: msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Copy the collection into a temporary ``ansible_collections/NS/NAME`` tree.

ansible-test only runs on a collection that sits at
``.../ansible_collections/<namespace>/<name>`` and only looks at the files git
knows about.  The repository stays the collection root; this script copies
every file git would commit (tracked, plus untracked files not ignored) into
DEST, makes DEST a git repository of its own and stages everything there, so
new files are tested before anyone commits them.

    python3 tools/stage_collection.py REPO_ROOT DEST
"""

import os
import shutil
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: stage_collection.py REPO_ROOT DEST')
    root, dest = (os.path.abspath(arg) for arg in sys.argv[1:])
    parts = dest.split(os.sep)
    if len(parts) < 4 or parts[-3] != 'ansible_collections':
        sys.exit('stage_collection: DEST must end in ansible_collections/NAMESPACE/NAME')
    listing = subprocess.run(
        ['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
        cwd=root, check=True, stdout=subprocess.PIPE,
    ).stdout.decode('utf-8', 'surrogateescape')
    # Start from scratch, but keep ansible-test's tests/output (its cached
    # delegation virtualenv makes repeated runs much faster).
    output = os.path.join(dest, 'tests', 'output')
    kept = dest + '.output-kept'
    if os.path.lexists(kept):
        shutil.rmtree(kept)
    if os.path.isdir(output):
        os.rename(output, kept)
    if os.path.lexists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    count = 0
    for rel in sorted(set(filter(None, listing.split('\0')))):
        src = os.path.join(root, rel)
        if not os.path.lexists(src):  # tracked but deleted in the work tree
            continue
        if os.path.isdir(src) and not os.path.islink(src):  # a submodule or nested repository
            continue
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), target)
        else:
            shutil.copy2(src, target)
        count += 1
    if os.path.isdir(kept):
        os.makedirs(os.path.dirname(output), exist_ok=True)
        os.rename(kept, output)
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM='1')
    subprocess.run(['git', 'init', '-q', dest], check=True, env=env)
    subprocess.run(['git', 'add', '-A', '.'], cwd=dest, check=True, env=env)
    print('staged %d files in %s' % (count, dest))


if __name__ == '__main__':
    main()
