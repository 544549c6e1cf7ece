# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fail when a changelog fragment is missing from the release galaxy.yml names.

With ``keep_fragments: true`` every fragment stays in changelogs/fragments/ and
changelogs/changelog.yaml lists the ones each release used.  While galaxy.yml's
version is a release that changelog.yaml already has (the release being
prepared), every fragment must belong to some release, or CHANGELOG.md misses
a change: ``make changelog-release`` folds it in.

    python tools/check_changelog_fragments.py COLLECTION_ROOT
"""

import os
import sys

import yaml


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    with open(os.path.join(root, 'galaxy.yml'), encoding='utf-8') as handle:
        version = str(yaml.safe_load(handle)['version'])
    with open(os.path.join(root, 'changelogs', 'changelog.yaml'), encoding='utf-8') as handle:
        releases = (yaml.safe_load(handle) or {}).get('releases') or {}
    if version not in releases:
        print('galaxy.yml version %s is not released yet: pending fragments are fine' % version)
        return 0
    used = set()
    for release in releases.values():
        used.update(release.get('fragments') or [])
    fragments_dir = os.path.join(root, 'changelogs', 'fragments')
    pending = sorted(name for name in os.listdir(fragments_dir)
                     if name.endswith(('.yml', '.yaml')) and name not in used)
    if pending:
        print('changelog fragments not in any release (run `make changelog-release`): %s' % ', '.join(pending),
              file=sys.stderr)
        return 1
    print('all %d fragments are in changelogs/changelog.yaml' % len(used))
    return 0


if __name__ == '__main__':
    sys.exit(main())
