#!/usr/bin/env bash
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# `make demo`: run the example rollback play against the Graph emulator:
# rehearse it, run it, run it again to show it is safe to rerun. Run from the
# repo root with the project's venv first on PATH (the Makefile does both).
set -euo pipefail

root=$(pwd)
work="$root/build/demo"

if [ -z "${MSGRAPH_EMULATOR_URL:-}" ]; then
    # Start the emulator (default scenario: one job, three users) around this very
    # script; it stops when the script ends, and after 10 minutes at most.
    rm -rf "$work" && mkdir -p "$work"
    PYTHONPATH="$root/emulator" exec python -m msgraph_emulator --max-seconds 600 \
        --ca-file "$work/ca.pem" --request-log "$work/requests.jsonl" -- "$0" "$@"
fi

# The credentials reach the module the way an AWX credential passes them: as
# environment variables, so the secret never appears on a command line.
export AZURE_TENANT_ID=00000000-0000-4000-8000-0000000000aa
export AZURE_CLIENT_ID=11111111-1111-4111-8111-111111111111
export AZURE_CLIENT_SECRET=emulator-demo-secret
export AZURE_AUTHORITY_HOST="$MSGRAPH_EMULATOR_URL"
export ANSIBLE_HOME="$root/build/ansible-home" ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
export ANSIBLE_COLLECTIONS_PATH="$root/build/collections"

users='6a88de8d-7027-44c1-8674-03f826aa1704,2f6c1b0e-3d4a-4c59-9e21-7b8a90c1d2e3'
play=(ansible-playbook examples/rollback.yml -e "graph_endpoint=$MSGRAPH_EMULATOR_URL"
      -e "ca_path=$MSGRAPH_EMULATOR_CA_FILE" -e "rollback_users=$users")

echo; echo "== 1. Rehearse: --check --diff sends no cancel"
"${play[@]}" --check --diff
echo; echo "== 2. Roll back: the cancellable user is cancelled (changed)"
"${play[@]}"
echo; echo "== 3. Roll back again: Graph answers 409, reported as ok (nothing changed, nothing failed)"
"${play[@]}"

echo; echo "== What reached the emulator (from its request log)"
python - "$MSGRAPH_EMULATOR_REQUEST_LOG" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    print('  %-5s %-4s %-100s %s' % (e['kind'], e['method'], e['path'], e['status']))
PY
