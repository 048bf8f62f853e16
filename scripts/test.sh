#!/usr/bin/env bash
# Runs every test: type check, lint, unit tests, then the e2e tests against a real local control
# plane (built from Go modules on first use and cached; see test/cluster/README.md).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$FLEDGE_ROOT"
fledge_ensure_apt openssl:openssl prometheus:prometheus htpasswd:apache2-utils
bash test/cluster/build.sh all
npm run typecheck
npm run lint
# vitest's summary is also written as JSON and turned into one plain closing line for CI.
results=.fledge/test-results.json
mkdir -p .fledge && rm -f "$results"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
node -e '
  const fs = require("node:fs");
  const file = process.argv[1];
  if (!fs.existsSync(file)) { console.log("vitest: 0 passed, 1 failed (no results written)"); process.exit(0); }
  const r = JSON.parse(fs.readFileSync(file, "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"
exit "$status"
