#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image
# (choose the Ubuntu 24.04 base image: its Python 3.12 takes the pinned numpy).
# It installs bubblewrap (the grader's sandbox) and a private Python
# environment with the runtime pins; the course files stay in /autograder/source.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SOURCE="${GRADER_SOURCE_DIR:-/autograder/source}"
VENV="${GRADER_VENV:-/opt/layer-grader/venv}"

apt-get update
apt-get install -y --no-install-recommends bubblewrap python3 python3-venv ca-certificates

PYTHON=python3
# numpy's pinned release needs Python 3.11 or later (Ubuntu 22.04 ships 3.10).
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PYTHON=python3.11
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check \
    -r "$SOURCE/requirements-grader.txt"

# Say in the build log whether submissions will be sandboxed (bubblewrap needs
# user namespaces, which some containers refuse) or graded by the stated fallback.
cd "$SOURCE"
"$VENV/bin/python" -c 'from grader.sandbox import Sandbox; print(Sandbox().statement())'
