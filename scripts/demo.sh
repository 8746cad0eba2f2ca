#!/usr/bin/env bash
# The main job: bootstrap, then a real end-to-end demo on an embedded,
# in-process driver (no daemon needed).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
exec .venv/bin/python -m virtcore.demo "$@"
