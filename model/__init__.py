"""The model: what pyroTorrent knows and keeps, below the web layer and the worker.

    clients/     the torrent clients, one folder each behind one interface (clients/interface.py,
                 the neutral types in clients/types.py); backend_for(target) picks one
    settings.py  settings kept and put back; stats.py statistics; schedule.py, rules.py,
    events.py    schedules, rules and events; tasks.py what the worker does a tick;
    metrics.py   Prometheus exposition

The domain modules speak to a client only through its Backend; no client imports them.
"""
