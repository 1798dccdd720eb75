#!/usr/bin/env bash
# The test run behind `make test` (and CI): lint, start the local PostgreSQL server, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

echo "== ruff"
$BIN/ruff check .

echo "== PostgreSQL test server"
XIANGYIN_TEST_PG_URL="$(bash scripts/pg_test_server.sh start)"
export XIANGYIN_TEST_PG_URL
echo "using $XIANGYIN_TEST_PG_URL"

echo "== pytest"
mkdir -p test-output
$BIN/pytest "$@"
