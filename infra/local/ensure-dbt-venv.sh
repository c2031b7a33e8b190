#!/usr/bin/env bash
# The project-local dbt virtualenv (.venv), from dbt's pinned requirements.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/ensure-venv.sh" .venv dbt/requirements.txt dbt
