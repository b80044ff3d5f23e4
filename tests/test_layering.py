"""The house's layers (docs/development.rst): which packages may import which.

Top down: the entry point (pyrotorrent.py, test.py); the web layer (lib/pages/) and the
worker's process (lib/worker/process.py); the domain (model/settings.py, stats, schedule,
rules, events, tasks, metrics); the client registry (model/__init__.py); the clients
(model/clients/rtorrent/, transmission/, qbittorrent/), which know the client interface (model/clients/interface.py,
model/clients/errors.py) and nothing above it; plumbing (the rest of lib/), which knows no torrent.
Nothing imports upward, no client imports another or the domain, and there is no import
circle.  Every import counts, those inside functions too.
"""
import ast
import os

import pytest

from model import clients as registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

UPPER = ('lib.pages', 'lib.worker.process')
DOMAIN = ('model.settings', 'model.stats', 'model.schedule', 'model.rules', 'model.events', 'model.tasks',
          'model.metrics')
INTERFACE = ('model.clients.interface', 'model.clients.types', 'model.clients.detail', 'model.clients.errors',
             'model.clients.trackers')
CLIENTS = tuple(module for module, _ in registry.CLIENTS.values())    # every client model/clients/__init__.py names


def modules():
    """{module name: path} of every module of lib/, model/ and the entry points."""
    found = {'pyrotorrent': 'pyrotorrent.py', 'test': 'test.py'}
    for top in ('lib', 'model'):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for file in files:
                if file.endswith('.py'):
                    path = os.path.relpath(os.path.join(folder, file), ROOT)
                    name = path[:-3].replace(os.sep, '.')
                    found[name[:-len('.__init__')] if name.endswith('.__init__') else name] = path
    return found


def imports(name, path, known):
    """The project's modules that module `name` imports, anywhere in it."""
    package = name if path.endswith('__init__.py') else name.rpartition('.')[0]
    with open(os.path.join(ROOT, path), encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                full = '%s.%s' % (base, alias.name)
                out.add(full if full in known else base)
    return {m for m in out if m in known}


def layer(name):
    """The layer of a module: higher numbers stand above lower ones."""
    def within(prefixes):
        return any(name == p or name.startswith(p + '.') for p in prefixes)
    if name in ('pyrotorrent', 'test'):
        return 6, 'entry'
    if within(UPPER):
        return 5, 'web/worker'
    if within(DOMAIN):
        return 4, 'domain'
    if name in ('model', 'model.clients'):
        return 3, 'client registry'
    if within(CLIENTS):
        return 2, 'client'
    if within(INTERFACE):
        return 1, 'client interface'
    assert name.startswith('lib'), name
    return 0, 'plumbing'


def client_of(name):
    return next((c for c in CLIENTS if name == c or name.startswith(c + '.')), None)


GRAPH = None


def graph():
    global GRAPH
    if GRAPH is None:
        known = modules()
        GRAPH = {name: imports(name, path, known) for name, path in known.items()}
    return GRAPH


def test_every_module_is_in_a_layer_and_the_graph_is_not_empty():
    g = graph()
    assert {'pyrotorrent', 'lib.pages.app', 'lib.worker.process', 'model.settings', 'model',
            'model.clients.rtorrent', 'model.clients.interface', 'lib.transport'} <= set(g)
    assert 'lib.pages.app' in g['pyrotorrent'] and 'model.clients.types' in g['model.clients.rtorrent.rows']
    for name in g:
        layer(name)


def test_nothing_imports_upward():
    wrong = []
    for name, deps in graph().items():
        mine = layer(name)
        for dep in deps:
            theirs = layer(dep)
            if theirs[0] > mine[0]:
                wrong.append('%s (%s) imports %s (%s)' % (name, mine[1], dep, theirs[1]))
    assert wrong == []


def test_the_web_layer_and_the_worker_do_not_import_each_other():
    g = graph()
    pages = [n for n in g if n.startswith('lib.pages')]
    assert not [n for n in pages if 'lib.worker.process' in g[n]]
    assert not [d for d in g['lib.worker.process'] if d.startswith('lib.pages')]


def test_a_client_imports_no_other_client():
    wrong = [(name, dep) for name, deps in graph().items() if client_of(name)
             for dep in deps if client_of(dep) and client_of(dep) != client_of(name)]
    assert wrong == []


def test_there_is_no_import_circle():
    g = graph()
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def connect(name):          # Tarjan: every strongly connected part of more than one module
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for dep in g[name]:
            if dep not in index:
                connect(dep)
                low[name] = min(low[name], low[dep])
            elif dep in on_stack:
                low[name] = min(low[name], index[dep])
        if low[name] == index[name]:
            part = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                part.append(member)
                if member == name:
                    break
            if len(part) > 1:
                circles.append(sorted(part))
    for name in sorted(g):
        if name not in index:
            connect(name)
    assert circles == []


@pytest.mark.parametrize('top', ['lib', 'model'])
def test_no_module_of_lib_or_model_is_over_600_lines(top):
    long = []
    for name, path in modules().items():
        if name.split('.')[0] == top:
            with open(os.path.join(ROOT, path), encoding='utf-8') as f:
                lines = sum(1 for _ in f)
            if lines > 600:
                long.append('%s: %d lines' % (path, lines))
    assert long == [], 'a module this long holds more than one thing: split it (docs/development.rst)'
