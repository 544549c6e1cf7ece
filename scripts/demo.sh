#!/usr/bin/env bash
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# `make demo`: start the Graph emulator, run the example rollback play, run it
# again to show it is safe to rerun, stop the emulator. Run from the repo root
# with the project's venv first on PATH (the Makefile does both).
set -euo pipefail

root=$(pwd)
work="$root/build/demo"
rm -rf "$work" && mkdir -p "$work"

PYTHONPATH="$root/emulator" python -m msgraph_emulator \
    --ca-file "$work/ca.pem" --ready-file "$work/ready.json" --request-log "$work/requests.jsonl" \
    >"$work/emulator.out" 2>&1 &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
    [ -s "$work/ready.json" ] && break
    kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.out"; echo "the emulator did not start" >&2; exit 1; }
    sleep 0.1
done
[ -s "$work/ready.json" ] || { echo "the emulator did not get ready in 10 s" >&2; exit 1; }
url=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$work/ready.json")
echo "== Graph emulator at $url (its default scenario: one job, three users)"

# The credentials reach the module the way an AWX credential passes them: as
# environment variables, so the secret never appears on a command line.
export AZURE_TENANT_ID=00000000-0000-4000-8000-0000000000aa
export AZURE_CLIENT_ID=11111111-1111-4111-8111-111111111111
export AZURE_CLIENT_SECRET=emulator-demo-secret
export AZURE_AUTHORITY_HOST="$url"
export ANSIBLE_HOME="$root/build/ansible-home" ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
export ANSIBLE_COLLECTIONS_PATH="$root/build/collections"

users='6a88de8d-7027-44c1-8674-03f826aa1704,2f6c1b0e-3d4a-4c59-9e21-7b8a90c1d2e3'
play=(ansible-playbook examples/rollback.yml -e "graph_endpoint=$url" -e "ca_path=$work/ca.pem" -e "rollback_users=$users")

echo; echo "== 1. Rehearse: --check --diff sends no cancel"
"${play[@]}" --check --diff
echo; echo "== 2. Roll back: the cancellable user is cancelled (changed)"
"${play[@]}"
echo; echo "== 3. Roll back again: Graph answers 409, reported as ok (nothing changed, nothing failed)"
"${play[@]}"

echo; echo "== What reached the emulator (from its request log)"
python - "$work/requests.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    print('  %-5s %-4s %-100s %s' % (e['kind'], e['method'], e['path'], e['status']))
PY
