#!/bin/sh
# The demo: real rtorrent daemons seeding real torrents on loopback, and pyroTorrent
# serving them at http://127.0.0.1:8080/ until Ctrl-C. Installs what it needs first.
set -eu
cd "$(dirname "$0")/.."
sh tests/install.sh
exec .venv/bin/python -m tests.demo "$@"
