#!/bin/sh
# The main job: evaluate, plan and apply examples/quickstart.tsk to its directory target.
set -eu
cd "$(dirname "$0")/.."
. scripts/_venv.sh
ensure_venv ""
set -x
.venv/bin/tuskops eval examples/quickstart.tsk
.venv/bin/tuskops plan examples/quickstart.tsk
.venv/bin/tuskops apply examples/quickstart.tsk --yes
.venv/bin/tuskops history examples/quickstart.tsk
