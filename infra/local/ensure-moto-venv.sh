#!/usr/bin/env bash
# The project-local moto virtualenv (.venv-moto): the AWS emulator the adapter tests run against.
# Its own venv, so that moto's pins never move dbt's.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/ensure-venv.sh" .venv-moto infra/aws/moto/requirements.txt moto_server
