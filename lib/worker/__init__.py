"""pyroTorrent's worker: the loop (loop.py: a lease-holding process ticking over its tasks,
knowing nothing of torrents) and the process that runs pyroTorrent's tasks in it
(process.py: `python pyrotorrent.py worker`), as Werkzeug's plnt keeps sync.py apart from
its views.  What a tick does for a target is model/tasks.py.
"""
from lib.worker.loop import LEASE, Task, Worker, lease_seconds

__all__ = ['LEASE', 'Task', 'Worker', 'lease_seconds']
