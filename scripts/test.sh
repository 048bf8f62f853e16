#!/usr/bin/env bash
# Runs every test: type check, lint, unit tests, then the e2e tests against a real local control
# plane (built from Go modules on first use and cached; see test/cluster/README.md). The unit tests
# run and report first, so a cluster that cannot start still leaves their results; the closing line
# adds both runs up and says when the e2e tests could not run.
set -uo pipefail
source "$(dirname "$0")/env.sh" || exit 1
cd "$FLEDGE_ROOT" || exit 1
status=0
fledge_ensure_apt openssl:openssl prometheus:prometheus htpasswd:apache2-utils || status=1
npm run typecheck || status=1
npm run lint || status=1

mkdir -p .fledge
# run_project NAME ARGS...: one vitest project, its summary as JSON in .fledge/test-results-NAME.json.
run_project() {
  local name=$1
  shift
  rm -f ".fledge/test-results-$name.json"
  npx vitest run --project "$name" --reporter=default --reporter=json \
    --outputFile.json=".fledge/test-results-$name.json" "$@"
}
run_project unit "$@" || status=1
cluster=ok
# Flagger itself (built from its Go module, cached) for the adoption e2e tests, built here rather than
# inside a test so that a cold build never runs into a test timeout.
if ! { bash test/cluster/build.sh all && bash test/cluster/build.sh flagger; }; then
  cluster="the local control plane could not be built (see above)"
  status=1
else
  run_project e2e "$@" || status=1
  # The short torture run: one kube-apiserver restart round on a second cluster of its own.
  FLEDGE_TORTURE=1 TORTURE_ROUNDS=${TORTURE_ROUNDS:-1} run_project torture "$@" || status=1
fi

node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const name of ["unit", "e2e", "torture"]) {
    const file = `.fledge/test-results-${name}.json`;
    if (!fs.existsSync(file)) { console.log(`${name}: no results (the run did not start)`); failed++; continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    // A global setup that failed (the cluster did not start) leaves a report with no test at all.
    const note = r.numTotalTests === 0 && !r.success ? " (the cluster did not start: see the global setup error above)" : "";
    if (note) failed++;
    console.log(`${name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed${s ? `, ${s} skipped` : ""}${note}`);
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += s;
  }
  if (process.argv[1] !== "ok") console.log(`e2e: ${process.argv[1]}`);
  console.log(`vitest: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$cluster"
exit "$status"
