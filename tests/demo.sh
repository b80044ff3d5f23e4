#!/bin/sh
# The demo: real rtorrent daemons on loopback with traffic that keeps going, pyroTorrent's
# worker, and pyroTorrent serving them at http://127.0.0.1:8080/ until Ctrl-C, which stops
# all of it. Installs what it needs first (not for --help, which says what runs).
set -eu
cd "$(dirname "$0")/.."
case " $* " in
    *" --help "*|*" -h "*) ;;
    *) sh tests/install.sh ;;
esac
exec .venv/bin/python -m tests.demo "$@"
