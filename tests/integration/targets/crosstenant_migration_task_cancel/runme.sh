#!/usr/bin/env bash
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Integration test: start the local Microsoft Graph emulator, cancel a user's
# migration task twice through ansible-playbook (first changed, then not
# changed), stop the emulator.
#
# The emulator is the collection's emulator/ directory (git-tracked, not in the
# galaxy artifact). ansible-test runs this script in a copy of the target inside
# the collection tree, so it is found by walking up from here; set
# MSGRAPH_EMULATOR_DIR to point elsewhere.

set -eu

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"

find_emulator() {
    if [ -n "${MSGRAPH_EMULATOR_DIR:-}" ]; then
        printf '%s\n' "${MSGRAPH_EMULATOR_DIR}"
        return 0
    fi
    local dir="${here}" level
    for level in $(seq 1 15); do
        if [ -f "${dir}/emulator/msgraph_emulator/__main__.py" ]; then
            printf '%s\n' "${dir}/emulator"
            return 0
        fi
        [ "${dir}" = / ] && break
        dir="$(dirname "${dir}")"
    done
    echo "runme.sh: cannot find the emulator (emulator/msgraph_emulator) above ${here} after ${level} levels;" \
        "set MSGRAPH_EMULATOR_DIR" >&2
    return 1
}

if [ -z "${MSGRAPH_EMULATOR_URL:-}" ]; then
    # Run this script again inside the emulator, which stops when it ends (and
    # after 10 minutes at most, should this script be killed hard).
    emulator_dir="$(find_emulator)"
    workdir="$(mktemp -d "${TMPDIR:-/tmp}/msgraph-emulator.XXXXXX")"
    trap 'rm -rf "${workdir}"' EXIT
    PYTHONPATH="${emulator_dir}${PYTHONPATH:+:${PYTHONPATH}}" "${python}" -m msgraph_emulator --max-seconds 600 \
        --ca-file "${workdir}/ca.pem" --request-log "${workdir}/requests.jsonl" -- "${BASH_SOURCE[0]}" "$@"
    exit $?
fi

status=0
ansible-playbook "${here}/cancel_twice.yml" ${INVENTORY_PATH:+-i "${INVENTORY_PATH}"} \
    -e "emulator_url=${MSGRAPH_EMULATOR_URL}" -e "emulator_ca_file=${MSGRAPH_EMULATOR_CA_FILE}" "$@" || status=$?

if [ "${status}" -ne 0 ]; then
    echo "runme.sh: the play failed; the emulator's request log:" >&2
    cat "${MSGRAPH_EMULATOR_REQUEST_LOG}" >&2 || true
    exit "${status}"
fi

# What Graph saw: two cancel requests for the task, the first accepted (2xx),
# the second refused with 409 (the module reported it as ok, not changed).
"${python}" - "${MSGRAPH_EMULATOR_REQUEST_LOG}" <<'PY'
import json
import sys

with open(sys.argv[1], encoding='utf-8') as handle:
    entries = [json.loads(line) for line in handle if line.strip()]
cancels = [e for e in entries if e.get('method') == 'POST' and str(e.get('path', '')).endswith('/cancel')]
statuses = [e.get('status') for e in cancels]
print('cancel requests seen by the emulator (status codes): %s' % statuses)
if len(statuses) != 2 or not 200 <= (statuses[0] or 0) < 300 or statuses[1] != 409:
    sys.exit('expected two cancels, answered 2xx then 409; the request log:\n' + '\n'.join(json.dumps(e) for e in entries))
PY
