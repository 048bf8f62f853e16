#!/usr/bin/env bash
# Runs every test: type check, lint, unit tests, then the e2e tests against a real local control
# plane (built from Go modules on first use and cached; see test/cluster/README.md).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$FLEDGE_ROOT"
fledge_ensure_apt openssl:openssl
bash test/cluster/build.sh all
npm run typecheck
npm run lint
npx vitest run "$@"
