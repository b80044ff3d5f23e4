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
from model.clients.errors import BackendError  # noqa: E402
from model.clients import UnknownClient, backend_for  # noqa: E402


def main():
    try:
        targets = config.load(sys.argv[1] if len(sys.argv) > 1 else None).targets
    except config.ConfigError as exc:
        print('Failed to read the configuration: %s' % exc)
        return 2
    failed = 0
    for target in targets:
        try:
            backend = backend_for(target)
            client_version, library_version = backend.version()
        except UnknownClient as exc:
            print('%s: %s' % (target.name, exc))
            failed += 1
            continue
        except BackendError as exc:
            print('%s: Failed to connect to %s: %s' % (target.name, 'libTorrent' if target.client == 'rtorrent'
                                                        else exc.client, exc.cause))
            failed += 1
            continue
        if target.client == 'rtorrent':     # the setup manual's words
            print('%s: libTorrent version: %s' % (target.name, library_version))
        else:
            print('%s: %s version: %s' % (target.name, backend.client, client_version))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
