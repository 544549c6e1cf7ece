# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check that ``ansible-builder introspect --sanitize`` lists the collection's needs.

    python tools/check_introspect.py INTROSPECT_OUTPUT COLLECTION_ROOT

Every requirement in COLLECTION_ROOT/requirements.txt must appear in the
``python`` list and every package in bindep.txt in the ``system`` list,
attributed to msgraph.migrations.
"""

import os
import re
import sys

import yaml

COLLECTION = 'msgraph.migrations'
NAME = re.compile(r'^\s*([A-Za-z0-9][A-Za-z0-9._+-]*)')


def names(path):
    found = []
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            line = line.split('#', 1)[0]
            match = NAME.match(line)
            if match:
                found.append(match.group(1).lower())
    return found


def listed(entries):
    result = set()
    for entry in entries or []:
        if COLLECTION not in entry:
            continue
        match = NAME.match(entry)
        if match:
            result.add(match.group(1).lower())
    return result


def main():
    output, root = sys.argv[1:3]
    with open(output, encoding='utf-8') as handle:
        data = yaml.safe_load(handle) or {}
    problems = []
    for key, filename in (('python', 'requirements.txt'), ('system', 'bindep.txt')):
        wanted = names(os.path.join(root, filename))
        have = listed(data.get(key))
        if not wanted:
            problems.append('%s lists nothing' % filename)
        for name in wanted:
            if name not in have:
                problems.append('introspect does not list %s requirement %s (from %s) for %s' % (key, name, filename, COLLECTION))
    if problems:
        print('\n'.join(problems), file=sys.stderr)
        return 1
    print('ansible-builder introspect lists all of requirements.txt and bindep.txt for %s' % COLLECTION)
    return 0


if __name__ == '__main__':
    sys.exit(main())
