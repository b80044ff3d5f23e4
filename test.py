#!/usr/bin/env python3
"""Tests the connection to every configured rTorrent, as the setup manual describes:

    $ python test.py
    home: libTorrent version: 0.13.8

Exits non-zero if any target fails.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import config  # noqa: E402
from model.errors import BackendError  # noqa: E402
from model.rtorrent import RTorrent  # noqa: E402


def main():
    try:
        targets = config.load(sys.argv[1] if len(sys.argv) > 1 else None).targets
    except config.ConfigError as exc:
        print('Failed to read the configuration: %s' % exc)
        return 2
    failed = 0
    for target in targets:
        r = RTorrent(target)
        try:
            print('%s: libTorrent version: %s' % (target.name, r.get_libtorrent_version()))
        except BackendError as exc:
            print('%s: Failed to connect to libTorrent: %s' % (target.name, exc.cause))
            failed += 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
