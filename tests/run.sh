#!/bin/sh
# The whole test suite, on a fresh Debian 12 machine as root: installs what it needs first.
set -eu
cd "$(dirname "$0")/.."
sh tests/install.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests "$@"
