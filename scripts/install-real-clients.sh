#!/usr/bin/env bash
# Install the real third-party RocketMQ clients the integration tests drive, into
# target/real-clients/ (idempotent): PyPI rocketmq==0.4.4 (official C++ client underneath) in a
# venv, and npm ali-ons@3.12.0 (pure JavaScript).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/real-clients
mkdir -p "$dir"
# Tests run this too (the first real-client test of a test binary): one install at a time.
exec 9>"$dir/.install.lock"
flock 9
if [ ! -x "$dir/venv/bin/python" ] || ! "$dir/venv/bin/python" -c 'import rocketmq.client' 2>/dev/null; then
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check rocketmq==0.4.4
fi
if [ ! -d "$dir/node/node_modules/ali-ons" ]; then
  mkdir -p "$dir/node"
  (cd "$dir/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund ali-ons@3.12.0)
fi
echo "real clients installed in $dir"
