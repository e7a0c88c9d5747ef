#!/usr/bin/env bash
# Lints the OpenAPI document a real host serves (every plugin in the build loaded) with Redocly
# CLI's recommended ruleset; any error or warning fails. Also checks the browsable reference at
# /api/docs is served with its script from this host. Arguments: <yieldhost binary> <tools/npm dir>
set -euo pipefail
binary=$1 tools=$2
redocly=$tools/node_modules/.bin/redocly
[[ -x $redocly ]] || { echo "Redocly CLI is not installed in $tools (packaging/install-deps.sh runs npm ci there)"; exit 1; }
source "$(dirname "$0")/../support/host.sh"
start_host "$binary" serve

curl -sf "$url/api/openapi.json" >"$work/openapi.json"
# Every plugin of the build is in the document being linted.
for plugin in users wallets investments analytics notifications integrations; do
  grep -q "\"id\":\"$plugin\"" <(curl -sf "$url/api/v1/plugins") || { echo "plugin $plugin is not loaded"; exit 1; }
done
status=0
(cd "$work" && "$redocly" lint openapi.json --format=json >"$work/lint.json" 2>"$work/lint.err") || status=$?
python3 - "$work/lint.json" "$status" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
totals = report.get("totals", {})
for p in report.get("problems", []):
    where = ", ".join(l.get("pointer", "") for l in p.get("location", []))
    print(f"{p.get('severity')}: {p.get('ruleId')}: {p.get('message')} at {where}")
print(f"redocly recommended: {totals.get('errors')} errors, {totals.get('warnings')} warnings")
sys.exit(0 if totals.get("errors") == 0 and totals.get("warnings") == 0 and sys.argv[2] == "0" else 1)
PY

page=$(curl -sf "$url/api/docs")
[[ $page == *'spec-url="/api/openapi.json"'* && $page == *'src="/api/docs/redoc.standalone.js"'* ]] \
  || { echo "unexpected /api/docs page: $page"; exit 1; }
size=$(curl -sf -o /dev/null -w '%{size_download}' "$url/api/docs/redoc.standalone.js")
(( size > 100000 )) || { echo "the Redoc script is missing or truncated ($size bytes)"; exit 1; }
echo "/api/docs serves its page and a $size-byte script from this host"
