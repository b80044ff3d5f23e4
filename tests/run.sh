#!/bin/sh
# The whole test suite, on a fresh Debian 12 machine as root: installs what it needs first.
set -eu
cd "$(dirname "$0")/.."
sh tests/install.sh
# Four workers, a file each at a time (its module fixtures stay in one process): the suite
# spends most of its time waiting on real daemons, so 4 workers on 2 cores take about 40 % of
# the time of one (docs/development.rst).
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n 4 --dist loadfile tests "$@"
