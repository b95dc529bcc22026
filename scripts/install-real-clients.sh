#!/usr/bin/env bash
# Install the real third-party RocketMQ clients the integration tests drive, into
# target/real-clients/ (idempotent): PyPI rocketmq==0.4.4 (official C++ client underneath) in a
# venv, npm ali-ons@3.12.0 (pure JavaScript), and PyPI rocketmq-client-python==2.0.0 (the 2.x
# wrapper with TransactionMQProducer) in a second venv, venv-tx (both packages are the module
# `rocketmq`). The 2.x wrapper ships no C++ library: the one of PyPI rocketmq-python-cvs==2.1.0.3
# (C++ client 2.1, inside its sdist) is copied next to the wrapper's client.py.
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
tx="$dir/venv-tx"
if [ ! -x "$tx/bin/python" ] || ! HOME="$dir" "$tx/bin/python" -c 'from rocketmq.client import TransactionMQProducer' 2>/dev/null; then
  rm -rf "$tx"
  python3 -m venv "$tx"
  "$tx/bin/pip" install --quiet --disable-pip-version-check rocketmq-client-python==2.0.0
  dl="$dir/download-cvs"
  rm -rf "$dl"
  "$tx/bin/pip" download --quiet --disable-pip-version-check --no-deps --no-binary :all: -d "$dl" rocketmq-python-cvs==2.1.0.3
  pkg=$("$tx/bin/python" -c 'import os, rocketmq; print(os.path.dirname(rocketmq.__file__))')
  tar -xzf "$dl"/rocketmq-python-cvs-2.1.0.3.tar.gz -O rocketmq-python-cvs-2.1.0.3/rocketmq/librocketmq.so >"$pkg/librocketmq.so"
  rm -rf "$dl"
  HOME="$dir" "$tx/bin/python" -c 'from rocketmq.client import TransactionMQProducer'
fi
echo "real clients installed in $dir"
