"""The test suite's own house rules (docs/development.rst, "Tests and the demo"), read from
the test files' text: every daemon's address comes from rig.address(), and no test module
imports another (shared helpers live in the modules at tests/)."""
import ipaddress
import os
import re

from tests import rig

TESTS = os.path.dirname(os.path.abspath(__file__))
# a daemon's or tracker's address typed by hand (bind=/host=/seeder_bind=/leecher_bind= '127.x.y.z');
# servers that only answer requests may stay on 127.0.0.1
HAND_TYPED = re.compile(r"""\b(?:bind|host|seeder_bind|leecher_bind)\s*=\s*['"]127\.(?!0\.0\.1['"])\d+\.\d+\.\d+['"]"""
                        r"""|seeder_and_leecher\([^)]*['"]127\.""")
TEST_MODULE_IMPORT = re.compile(r'^\s*(?:from|import)\s+tests\.(?:[\w.]+\.)?test_\w+', re.M)


def python_files(root=TESTS):
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        for name in sorted(files):
            if name.endswith('.py'):
                yield os.path.join(folder, name)


def hand_typed_addresses(root=TESTS):
    """[file:line] where a daemon is given a literal loopback address (rig.py's own code aside)."""
    found = []
    for path in python_files(root):
        if os.path.relpath(path, root) == 'rig.py':
            continue
        with open(path, encoding='utf-8') as f:
            for number, line in enumerate(f, 1):
                if HAND_TYPED.search(line):
                    found.append('%s:%d' % (os.path.relpath(path, root), number))
    return found


def imports_between_test_modules(root=TESTS):
    """[file: imported test module]: a test file importing from another test file."""
    found = []
    for path in python_files(root):
        with open(path, encoding='utf-8') as f:
            for m in TEST_MODULE_IMPORT.finditer(f.read()):
                found.append('%s: %s' % (os.path.relpath(path, root), m.group(0).strip()))
    return found


def test_every_daemon_gets_its_address_from_the_rig():
    assert hand_typed_addresses() == [], 'use rig.address() (the default) and the daemon\'s .bind'


def test_no_test_module_imports_another():
    assert imports_between_test_modules() == [], 'move the helper to a shared module at tests/'


def test_addresses_are_loopback_unique_and_never_127_0_0_1():
    given = [rig.address() for _ in range(600)]          # crosses a third-octet boundary (254 a block)
    assert len(set(given)) == len(given)
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network('127.0.0.0/8') for a in given)
    assert '127.0.0.1' not in given and not any(a.endswith('.0') or a.endswith('.255') for a in given)
    assert rig.RTorrentDaemon().bind != rig.RTorrentDaemon().bind      # the default is address()
