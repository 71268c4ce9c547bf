#!/bin/sh
# The whole test suite: lint (ruff), types (mypy), then pytest. Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."
. scripts/_venv.sh
ensure_venv "dev"
echo "== ruff" >&2
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
echo "== mypy" >&2
.venv/bin/mypy
echo "== pytest" >&2
exec .venv/bin/pytest "$@"
