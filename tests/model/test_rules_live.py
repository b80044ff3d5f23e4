"""Rules on a real transfer between two rtorrents, run by a real `pyrotorrent.py worker`:
the seeder's torrent reaches a ratio and is stopped; the leecher's finishes, is labelled
"done" on its finished event and moved to a speed group; the events page's API says what
each rule did and why, once."""
import os
import signal

import pytest

from lib.store import Store
from model import rules, settings
from model.clients.rtorrent import RTorrent
from tests import rig, webapp
from tests.workers import WorkerProcess, write_config

SIZE = 4 * 1024 * 1024


@pytest.fixture(scope='module')
def pair(swarm, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('rules'))
    data = os.path.join(workdir, 'data')
    path = rig.make_payload(data, 'Ratio test.bin', SIZE)
    torrent = rig.make_torrent(path, swarm.tracker.announce_url, os.path.join(workdir, 'ratio.torrent'),
                               piece_size_exp=18)
    seeder = rig.RTorrentDaemon(os.path.join(workdir, 'seeder')).start()
    leecher = rig.RTorrentDaemon(os.path.join(workdir, 'leecher')).start()
    try:
        info_hash = seeder.seed(torrent, data, swarm.tracker, label='ratio-test')
        yield {'seeder': seeder, 'leecher': leecher, 'hash': info_hash, 'torrent': torrent, 'workdir': workdir}
    finally:
        leecher.stop()
        seeder.stop()


def test_a_rule_fires_when_a_real_transfer_reaches_a_ratio(pair, tmp_path):
    seeder, leecher, info_hash = pair['seeder'], pair['leecher'], pair['hash']
    path = str(tmp_path / 'store.sqlite3')
    store = Store.open(path)
    backends = {'seeder': RTorrent(seeder.url, name='seeder'), 'leecher': RTorrent(leecher.url, name='leecher')}
    settings.apply(store, backends['leecher'], {'groups': {'slow': {'down_limit': 0, 'up_limit': 64 * 1024}}}, 'test')
    seed_rule = rules.validate_all([{'name': 'seed to 1', 'match': {'label': 'ratio-test'}, 'when': {'ratio': 1},
                                     'do': 'stop'}], rules.Context(backends['seeder'].snapshot()))
    rules.save(store, 'seeder', seed_rule, 'test')
    leech_rules = rules.validate_all([
        {'name': 'done', 'match': {'all': True}, 'when': {'event': 'finished'}, 'do': {'label': 'done'}},
        {'name': 'slow when done', 'match': {'all': True}, 'when': {'event': 'finished'}, 'do': {'group': 'slow'}},
    ], rules.Context([], groups=['slow']))
    rules.save(store, 'leecher', leech_rules, 'test')
    config = write_config(str(tmp_path / 'config.py'), STORE=path, WORKER_TICK_SECONDS=0.5,
                          targets={'seeder': {'url': seeder.url}, 'leecher': {'url': leecher.url}})
    worker = WorkerProcess(config, str(tmp_path / 'worker.log'))
    try:
        rig.wait_for(lambda: store.seen('leecher'), 20, 'the worker to take its first look at the leecher')
        assert seeder.call('d.state', info_hash) == 1 and seeder.call('d.ratio', info_hash) < 1000
        leecher.load(pair['torrent'], directory=leecher.download_dir, label='incoming')
        leecher.wait(lambda: leecher.call('d.complete', info_hash) == 1, 60, 'the leecher to download it all')
        seeder.wait(lambda: seeder.call('d.state', info_hash) == 0, 30, 'the ratio rule to stop the seeder')
        assert seeder.call('d.ratio', info_hash) >= 1000
        leecher.wait(lambda: leecher.call('d.custom1', info_hash) == 'done', 30, 'the finished rule to label it')
        leecher.wait(lambda: leecher.call('d.throttle_name', info_hash) == 'slow', 30, 'the group rule')
        assert leecher.call('d.state', info_hash) == 1          # moved with a stop and start around it
        worker.stop(signal.SIGTERM)
        worker = WorkerProcess(config, str(tmp_path / 'worker2.log'))       # catch-up: nothing fires again
        rig.wait_for(lambda: 'started on store' in worker.log() and Store.open(path).heartbeat('worker').pid == worker.pid,
                     20, 'the second worker to tick')
        rig.wait_for(lambda: Store.open(path).heartbeat('worker').ticked_at > 0, 5, 'a tick')
    finally:
        worker.stop()
    seeder_rules = [e for e in store.events('seeder') if e.kind == 'rule']
    assert len(seeder_rules) == 1 and seeder_rules[0].detail['done'] == [info_hash]
    assert seeder_rules[0].detail['why'] == "torrents labelled 'ratio-test', when ratio ≥ 1"
    leecher_kinds = [(e.kind, e.detail.get('rule')) for e in reversed(store.events('leecher'))]
    assert leecher_kinds.count(('added', None)) == 1 and leecher_kinds.count(('finished', None)) == 1
    assert leecher_kinds.count(('rule', 'done')) == 1 and leecher_kinds.count(('rule', 'slow when done')) == 1
    # the JSON API shows them with words
    web = webapp.client({'seeder': seeder.url, 'leecher': leecher.url}, STORE=path)
    answer = web.get('/api/target/leecher/events').json
    texts = [e['text'] for e in answer['events']]
    assert "rule 'done': labelled 1 torrent(s) (on finished)" in texts
    assert "'Ratio test.bin' finished downloading" in texts
