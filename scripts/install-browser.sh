#!/usr/bin/env bash
# Install what the dashboard page tests drive (idempotent): Debian's `chromium` package (apt-get,
# when /usr/bin/chromium is missing) and npm playwright-core (no browser download of its own) into
# target/browser/node_modules. tests/dashboard_pages.rs runs this before its first page test; CI
# runs it from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/browser
mkdir -p "$dir"
exec 9>"$dir/.install.lock"
flock 9
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
  (cd "$dir" && { [ -f package.json ] || npm init -y >/dev/null; } \
    && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund playwright-core@1.65.1)
fi
/usr/bin/chromium --version 2>/dev/null
echo "browser tools installed in $dir"
