#!/usr/bin/env bash
# The whole test suite, as CI runs it: bootstrap, lint, type-check, tests.
# Exits non-zero on any failure, including "no tests collected" (pytest's 5).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy --strict"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
