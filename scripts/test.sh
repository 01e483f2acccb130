#!/usr/bin/env bash
# `npm test`: every check, in order — lint, type checks, build, unit + integration tests (against the
# bundled PostgreSQL, with a real Secret Service in a private D-Bus session), then end-to-end tests
# (Chromium driving `npm run serve`). Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
results="$(mktemp -d "${TMPDIR:-/tmp}/aristobot-results.XXXXXX")"
status=0
step() { echo; echo "▶ $*"; }

step "lint";        npx eslint . || status=1
step "type check";  npm run -s typecheck || status=1
step "build";       npx electron-vite build >/dev/null || { echo "build failed"; status=1; }
step "unit and integration tests"
scripts/with-keyring.sh npx vitest run --reporter=default --reporter=json --outputFile.json="$results/unit.json" || status=1
step "end-to-end tests (Chromium)"
npx vitest run -c vitest.e2e.config.ts --reporter=default --reporter=json --outputFile.json="$results/e2e.json" || status=1

node -e '
const fs = require("fs");
let passed = 0, failed = 0, missing = [];
for (const f of process.argv.slice(1)) {
  if (!fs.existsSync(f)) { missing.push(f); continue; }
  const r = JSON.parse(fs.readFileSync(f, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
}
if (missing.length) { console.log("test results missing: " + missing.join(", ")); failed += missing.length; }
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
' "$results/unit.json" "$results/e2e.json" || status=1
rm -rf "$results"
exit $status
