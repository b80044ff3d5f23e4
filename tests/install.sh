#!/bin/sh
# Installs what pyroTorrent, its demo and its tests need on a fresh Debian 12 machine (as root):
# the real daemons from Debian's archive, and the Python packages in a virtualenv at .venv.
set -eu
cd "$(dirname "$0")/.."
PACKAGES="rtorrent transmission-daemon qbittorrent-nox mktorrent opentracker lighttpd spawn-fcgi chromium chromium-driver python3 python3-venv"
# The scale-out tests' servers (docs/scaling.rst); none is started on install, each test starts its own.
PACKAGES="$PACKAGES postgresql redis-server memcached nginx"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "Installing Debian packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Debian's python3, not a pyenv build in root's home: spawn-fcgi may run us as another user.
if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
