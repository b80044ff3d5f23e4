"""The worker's process (`python pyrotorrent.py worker`): reads config.py, opens the store
and one Backend a target, and runs the worker loop (lib/worker/loop.py) over every target's
tasks (model/tasks.py) and the purge of expired sessions, until SIGTERM or Ctrl-C.
"""
import logging
import sys

from lib import config as configuration
from lib import sessions
from lib.store import StoreError
from lib.webhook import Webhook
from lib.worker.loop import Task, Worker, open_store
from lib.zone import time_zone
from model import events
from model.clients import UnknownClient, backend_for
from model.stats import Policy
from model.tasks import tasks_for


def run(config_path):
    """The worker: ticks over every target until SIGTERM or Ctrl-C; the exit status."""
    logging.basicConfig(level=logging.INFO, format='%(asctime)s pyrotorrent worker: %(levelname)s %(message)s')
    try:
        config = configuration.load(config_path)
        backends = {t.name: backend_for(t, cache_seconds=config.CACHE_SECONDS,
                                               max_answer_bytes=config.MAX_ANSWER_BYTES) for t in config.targets}
        store = open_store(config.store_url, config.store_base, config.WORKER_TICK_SECONDS)   # waits, says why
    except (configuration.ConfigError, StoreError, UnknownClient) as exc:
        print('pyrotorrent: %s' % exc, file=sys.stderr)
        return 2
    if store is None:               # stopped while waiting for the store
        return 0
    policy = Policy.from_config(config)
    hook = Webhook(config.WEBHOOK_URL, store).start() if config.WEBHOOK_URL else None

    def notify(event):          # the webhook's queue: a store write, never the network
        hook.send_later('%s:%s' % (event.target, event.key), dict(event.as_dict(), text=events.in_words(event)))

    # expired sessions of the file store: the worker's to delete, never a request's
    purge = sessions.purger(sessions.options(config.session_options, config.BASE_URL))

    def tasks(on_lease):        # every write through the lease-checked store
        return tasks_for(on_lease, backends, policy, config.WORKER_TICK_SECONDS, tz=time_zone(config.TIME_ZONE),
                         notify=notify if hook else None, automate_seconds=config.EVENTS_SECONDS,
                         events_keep_days=config.EVENTS_KEEP_DAYS, stalled_after=config.STALLED_SECONDS) + [
            Task('sessions', purge)]
    try:
        return Worker(store, tasks, config.WORKER_TICK_SECONDS).run()
    finally:
        if hook:
            hook.stop()
