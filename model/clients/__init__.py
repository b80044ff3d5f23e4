"""The torrent clients pyroTorrent speaks, one folder each behind one interface
(model/clients/interface.py: Backend, Capabilities; the neutral types in types.py).

backend_for(target) gives the Backend of a configured target, by its 'client' key.
"""
import importlib

# client key in config.py -> (module, class): adding a client is one line here and a folder.
CLIENTS = {
    'rtorrent': ('model.clients.rtorrent', 'RTorrent'),
    'transmission': ('model.clients.transmission', 'Transmission'),
    'qbittorrent': ('model.clients.qbittorrent', 'QBittorrent'),
}


class UnknownClient(ValueError):
    """A target names a client pyroTorrent does not speak."""


def backend_class(client):
    if client not in CLIENTS:
        raise UnknownClient("unknown client %r (pyroTorrent speaks: %s)" % (client, ', '.join(sorted(CLIENTS))))
    module, name = CLIENTS[client]
    return getattr(importlib.import_module(module), name)


def backend_for(target, **options):
    """The Backend for a lib.config.Target (options: cache_seconds...)."""
    return backend_class(target.client)(target, **options)
