"""The statistics' tables (stats_series, stats_bucket, stats_torrent, stats_target,
stats_event; migrations.py makes them) and every query of them, as methods of the Store:
model/stats.py decides what to count and speaks to these in Python calls.  Rows are plain
tuples of keys, kinds, times and byte counts; nothing here knows a torrent or a client.
"""


def _in(values):
    return ', '.join('?' * len(values)) or 'NULL'


class StatsTables:
    """The Store's statistics queries (a mixin of Store: self.run is its transaction)."""

    # -- the sampler's side (the worker) ----------------------------------------------------

    def stats_state(self, target):
        """(instance, sampled_at, details_at, pruned_at) of the target's last sample, or None."""
        rows = self.run([('SELECT instance, sampled_at, details_at, pruned_at FROM stats_target '
                          'WHERE target = ?', (target,))], write=False)
        return rows[0] if rows else None

    def stats_last_totals(self, target):
        """[(hash, up_total, down_total, label, tracker, name)] as the last sample left them."""
        return self.run([('SELECT hash, up_total, down_total, label, tracker, name FROM stats_torrent '
                          'WHERE target = ?', (target,))], write=False)

    def stats_series_ids(self, target):
        """{(kind, key): series id} of a target."""
        rows = self.run([('SELECT kind, key, id FROM stats_series WHERE target = ?', (target,))], write=False)
        return {(kind, key): i for kind, key, i in rows}

    def stats_add_series(self, target, series, now):
        """New series [(kind, key, name)] of a target; their {(kind, key): id}."""
        # one writer a store (the worker's lease): the next ids are ours to take
        top = self.run([('SELECT COALESCE(MAX(id), 0) FROM stats_series', ())], write=False)[0][0]
        rows = [(top + n + 1, target, kind, key, name, now) for n, (kind, key, name) in enumerate(series)]
        self.run([('INSERT INTO stats_series (id, target, kind, key, name, first_at) '
                   'VALUES (?, ?, ?, ?, ?, ?)', rows)])
        return {(kind, key): i for i, _, kind, key, _, _ in rows}

    def stats_write_sample(self, target, buckets, totals, gone, returned, events, state):
        """One sample, in one transaction: bytes added to buckets [(series, resolution, start,
        up, down)], the torrents' last totals [(hash, up_total, down_total, label, tracker,
        name)] kept, the hashes gone (their series marked gone) and returned (marked not gone),
        events [(kind, started_at, ended_at, detail)], and the target's state (instance,
        sampled_at, details_at, pruned_at; pruned_at is only written the first time)."""
        now = state[1]
        statements = [
            ('INSERT INTO stats_bucket (series, resolution, start, up, down) VALUES (?, ?, ?, ?, ?) '
             'ON CONFLICT (series, resolution, start) DO UPDATE SET up = stats_bucket.up + excluded.up, '
             'down = stats_bucket.down + excluded.down', buckets),
            ('INSERT INTO stats_torrent (target, hash, up_total, down_total, label, tracker, name) '
             'VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (target, hash) DO UPDATE SET up_total = excluded.up_total, '
             'down_total = excluded.down_total, label = excluded.label, tracker = excluded.tracker, '
             'name = excluded.name', [(target,) + row for row in totals]),
            ('DELETE FROM stats_torrent WHERE target = ? AND hash = ?', [(target, h) for h in gone]),
            ("UPDATE stats_series SET gone_at = ? WHERE target = ? AND kind = 'torrent' AND key = ?",
             [(now, target, h) for h in gone]),
            ("UPDATE stats_series SET gone_at = NULL WHERE target = ? AND kind = 'torrent' AND key = ? "
             "AND gone_at IS NOT NULL", [(target, h) for h in returned]),
            ('INSERT INTO stats_event (target, kind, started_at, ended_at, detail) VALUES (?, ?, ?, ?, ?) '
             'ON CONFLICT (target, kind, started_at) DO NOTHING', [(target,) + e for e in events]),
        ]
        statements = [(sql, rows) for sql, rows in statements if rows]
        statements.append((
            'INSERT INTO stats_target (target, instance, sampled_at, details_at, pruned_at) VALUES (?, ?, ?, ?, ?) '
            'ON CONFLICT (target) DO UPDATE SET instance = excluded.instance, sampled_at = excluded.sampled_at, '
            'details_at = excluded.details_at', (target,) + tuple(state)))
        self.run(statements)

    def stats_prune(self, target, before, torrents_gone_before, now):
        """Delete a target's buckets older than before ({resolution: unix time}), and the own
        series of torrents gone before torrents_gone_before (None: keep them), in one transaction."""
        statements = [('DELETE FROM stats_bucket WHERE resolution = ? AND start < ? AND series IN '
                       '(SELECT id FROM stats_series WHERE target = ?)', (resolution, start, target))
                      for resolution, start in before.items()]
        if torrents_gone_before is not None:
            old = (target, torrents_gone_before)
            gone = ("SELECT id FROM stats_series WHERE target = ? AND kind = 'torrent' AND gone_at IS NOT NULL "
                    "AND gone_at < ?")
            statements.append(('DELETE FROM stats_bucket WHERE series IN (%s)' % gone, old))
            statements.append(("DELETE FROM stats_series WHERE target = ? AND kind = 'torrent' AND gone_at IS NOT NULL "
                               "AND gone_at < ?", old))
        statements.append(('UPDATE stats_target SET pruned_at = ? WHERE target = ?', (now, target)))
        self.run(statements)

    # -- the readers' side (pages, API, metrics) --------------------------------------------

    def stats_sums(self, targets, kind, key, resolution, start, end):
        """[(bucket start, up, down)] of one series summed over targets, start <= bucket < end."""
        return self.run([(
            'SELECT b.start, SUM(b.up), SUM(b.down) FROM stats_bucket b JOIN stats_series s ON s.id = b.series '
            'WHERE s.target IN (%s) AND s.kind = ? AND s.key = ? AND b.resolution = ? AND b.start >= ? '
            'AND b.start < ? GROUP BY b.start ORDER BY b.start' % _in(targets),
            tuple(targets) + (kind, key, resolution, int(start), int(end)))], write=False)

    def stats_total(self, targets, kind, key, resolution, start, end):
        """(up, down) of a series over start <= bucket < end."""
        rows = self.run([(
            'SELECT COALESCE(SUM(b.up), 0), COALESCE(SUM(b.down), 0) FROM stats_bucket b JOIN stats_series s '
            'ON s.id = b.series WHERE s.target IN (%s) AND s.kind = ? AND s.key = ? AND b.resolution = ? '
            'AND b.start >= ? AND b.start < ?' % _in(targets),
            tuple(targets) + (kind, key, resolution, int(start), int(end)))], write=False)
        return tuple(int(v) for v in rows[0])

    def stats_by_key(self, targets, kind, resolution, start, end):
        """[(key, name, up, down, gone 0/1)] of every series of a kind, most bytes first."""
        return self.run([(
            'SELECT s.key, MAX(s.name), SUM(b.up), SUM(b.down), MIN(CASE WHEN s.gone_at IS NULL THEN 0 ELSE 1 END) '
            'FROM stats_bucket b JOIN stats_series s ON s.id = b.series WHERE s.target IN (%s) AND s.kind = ? '
            'AND b.resolution = ? AND b.start >= ? AND b.start < ? GROUP BY s.key '
            'ORDER BY SUM(b.up) + SUM(b.down) DESC, s.key' % _in(targets),
            tuple(targets) + (kind, resolution, int(start), int(end)))], write=False)

    def stats_by_key_before(self, targets, kind, resolution, end):
        """{key: (up, down)} of every series of a kind over the buckets that began before end."""
        rows = self.run([(
            'SELECT s.key, SUM(b.up), SUM(b.down) FROM stats_bucket b JOIN stats_series s ON s.id = b.series '
            'WHERE s.target IN (%s) AND s.kind = ? AND b.resolution = ? AND b.start < ? GROUP BY s.key'
            % _in(targets), tuple(targets) + (kind, resolution, int(end)))], write=False)
        return {k: (int(u), int(d)) for k, u, d in rows}

    def stats_by_key_from(self, targets, kind, resolution, start, since):
        """[(key, name, gone 0/1, buckets, up, down, up since, down since)] of every series of a
        kind over the buckets from start on (a series without one: buckets 0)."""
        return self.run([(
            'SELECT s.key, MAX(s.name), MIN(CASE WHEN s.gone_at IS NULL THEN 0 ELSE 1 END), COUNT(b.start), '
            'COALESCE(SUM(b.up), 0), COALESCE(SUM(b.down), 0), '
            'COALESCE(SUM(CASE WHEN b.start >= ? THEN b.up ELSE 0 END), 0), '
            'COALESCE(SUM(CASE WHEN b.start >= ? THEN b.down ELSE 0 END), 0) '
            'FROM stats_series s LEFT JOIN stats_bucket b ON b.series = s.id AND b.resolution = ? AND b.start >= ? '
            'WHERE s.target IN (%s) AND s.kind = ? GROUP BY s.key' % _in(targets),
            (int(since), int(since), resolution, int(start)) + tuple(targets) + (kind,))], write=False)

    def stats_events(self, targets, start, end):
        """[(target, kind, started_at, ended_at, detail)] that overlap start..end, oldest first."""
        return self.run([(
            'SELECT target, kind, started_at, ended_at, detail FROM stats_event WHERE target IN (%s) '
            'AND ended_at >= ? AND started_at < ? ORDER BY started_at' % _in(targets),
            tuple(targets) + (start, end))], write=False)

    def stats_began(self, targets):
        """When statistics of these targets began (their first sample), or None."""
        rows = self.run([("SELECT MIN(first_at) FROM stats_series WHERE target IN (%s) AND kind = 'target'"
                          % _in(targets), tuple(targets))], write=False)
        return rows[0][0]

    def stats_all_time(self, targets, kinds, resolution):
        """[(target, kind, key, up, down)] of every series of these kinds."""
        rows = self.run([(
            'SELECT s.target, s.kind, s.key, SUM(b.up), SUM(b.down) FROM stats_bucket b JOIN stats_series s '
            'ON s.id = b.series WHERE s.target IN (%s) AND s.kind IN (%s) AND b.resolution = ? '
            'GROUP BY s.target, s.kind, s.key ORDER BY s.target, s.kind, s.key'
            % (_in(targets), _in(kinds)), tuple(targets) + tuple(kinds) + (resolution,))], write=False)
        return [(t, k, key, int(u), int(d)) for t, k, key, u, d in rows]

    def stats_sampled(self, targets):
        """{target: unix time of its last sample}."""
        return dict(self.run([('SELECT target, sampled_at FROM stats_target WHERE target IN (%s)'
                               % _in(targets), tuple(targets))], write=False))
