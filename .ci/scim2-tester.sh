#!/usr/bin/env bash
# Independent conformance check: runs the Python scim2-tester (PyPI) against a fresh scimd on
# a throwaway SQLite database. Fails on any check scim2-tester rates ERROR or CRITICAL, except
# those listed by name under "Tolerated scim2-tester checks" in
# scim-conformance/KNOWN_DIFFERENCES.md (where scim2-tester disagrees with the RFC).
set -euo pipefail
cd "$(dirname "$0")/.."

# Versions validated against scimd; bump together, re-run, and update KNOWN_DIFFERENCES.md.
SCIM2_TESTER_VERSION=0.5.2
SCIM2_CLIENT_VERSION=0.13.2
SCIM2_MODELS_VERSION=0.12.3

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check \
  "scim2-tester[httpx2]==$SCIM2_TESTER_VERSION" \
  "scim2-client[httpx2]==$SCIM2_CLIENT_VERSION" \
  "scim2-models==$SCIM2_MODELS_VERSION"

# The binary `cargo test --workspace` built: a plain `cargo build` resolves the dependencies'
# features without the dev-dependencies and would compile most of them a second time.
cargo test --workspace --no-run --quiet
target/debug/scimd --database-url "sqlite://$work/scimd.db" serve --bind 127.0.0.1:0 \
  >"$work/stdout" 2>"$work/stderr" &
server_pid=$!

base_url=""
for _ in $(seq 1 300); do
  base_url=$(cat "$work/stderr" "$work/stdout" | sed -n 's/.*scimd listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' | head -n 1)
  [ -n "$base_url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "scimd exited before listening:" >&2
    cat "$work/stderr" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$base_url" ]; then
  echo "scimd did not report its address within 30 s:" >&2
  cat "$work/stderr" >&2
  exit 1
fi
# Off a terminal, the first start writes its token to a private file beside the database.
token=$(grep -o -m 1 'wxt_[0-9A-Za-z]\{39\}' "$work/scimd.db.first-token" 2>/dev/null || true)
if [ -z "$token" ]; then
  echo "no first-start token in $work/scimd.db.first-token" >&2
  cat "$work/stderr" >&2
  exit 1
fi

echo "scim2-tester $SCIM2_TESTER_VERSION against $base_url/scim/v2"
"$work/venv/bin/python" .ci/scim2_tester_driver.py "$base_url/scim/v2" "$token" \
  scim-conformance/KNOWN_DIFFERENCES.md
