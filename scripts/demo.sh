#!/usr/bin/env bash
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# `make demo`: run the rollback runbook (examples/rollback.yml) against the Graph
# emulator seeded with a 500-user wave in mixed states: rehearse it, run it, run it
# again to show it is safe to rerun. Run from the repo root with the project's venv
# first on PATH (the Makefile does both).
set -euo pipefail

root=$(pwd)
work="$root/build/demo"

if [ -z "${MSGRAPH_EMULATOR_URL:-}" ]; then
    # Start the emulator around this very script; it stops when the script ends,
    # and after 10 minutes at most.
    rm -rf "$work" && mkdir -p "$work/reports"
    PYTHONPATH="$root/emulator" exec python -m msgraph_emulator --max-seconds 600 \
        --scenario "$root/emulator/msgraph_emulator/scenarios/wave500.yml" \
        --ca-file "$work/ca.pem" --request-log "$work/requests.jsonl" -- "$0" "$@"
fi

# The credentials reach the modules the way an AWX credential passes them: as
# environment variables, so the secret never appears on a command line.
export AZURE_TENANT_ID=00000000-0000-4000-8000-0000000000aa
export AZURE_CLIENT_ID=11111111-1111-4111-8111-111111111111
export AZURE_CLIENT_SECRET=emulator-demo-secret
export AZURE_AUTHORITY_HOST="$MSGRAPH_EMULATOR_URL"
export ANSIBLE_HOME="$root/build/ansible-home" ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
export ANSIBLE_COLLECTIONS_PATH="$root/build/collections"
# The token cache shared by every task of the demo (one token request in all).
export XDG_CACHE_HOME="$work/cache"

play=(ansible-playbook examples/rollback.yml -e "graph_endpoint=$MSGRAPH_EMULATOR_URL"
      -e "ca_path=$MSGRAPH_EMULATOR_CA_FILE" -e migration_job_id=add14989-2b21-4001-81bd-a18b0bac1dea
      -e rollback_users=all -e "rollback_report_dir=$work/reports" -e rollback_wait_timeout=120)

echo; echo "== 1. Rehearse: --check sends no cancel; it lists the 500 users and predicts each outcome"
"${play[@]}" --check
echo; echo "== 2. Roll back: every user that can still be cancelled, in one task, then wait for Graph to finish"
"${play[@]}"
# Step 1 (check mode) wrote no report, so step 2's is the only one so far.
reports=("$work"/reports/rollback-*.csv)
report=${reports[0]}
echo; echo "== 3. Roll back again: nothing left to cancel, nothing fails (safe to rerun; its report is a new file)"
sleep 1
"${play[@]}"

echo; echo "== The report of step 2 for the change record: ${report%.csv}.{json,csv}"
head -n 6 "$report"
echo "  ..."

echo; echo "== What reached the emulator (from its request log)"
python - "$MSGRAPH_EMULATOR_REQUEST_LOG" <<'PY'
import collections, json, sys
counts = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    what = 'cancel (in $batch)' if e.get('batch_request_id') else e['kind'] + ' ' + e['method']
    if e['kind'] == 'graph' and not e.get('batch_request_id'):
        what += ' ' + ('list users' if e['path'].endswith('/users') else 'read')
    counts[(what, e['status'])] += 1
for (what, status), count in sorted(counts.items(), key=str):
    print('  %5d x %-24s -> %s' % (count, what, status))
PY
