"""The schema, one migration a version, applied in order inside one transaction each.
Never edit one that has shipped: add the next.  Never drop data.
"""



# The schema, one migration a version, applied in order inside one transaction each.
# Never edit one that has shipped: add the next.  Never drop data.
MIGRATIONS = (
    # 1: values a target keeps (per kind: 'desired' settings, 'state' the worker tracks),
    #    the worker's lease and its heartbeat.
    (
        """CREATE TABLE target_value (
               target TEXT NOT NULL,
               kind TEXT NOT NULL,
               name TEXT NOT NULL,
               value TEXT NOT NULL,
               set_at DOUBLE PRECISION NOT NULL,
               set_by TEXT NOT NULL DEFAULT '',
               PRIMARY KEY (target, kind, name))""",
        """CREATE TABLE lease (
               name TEXT PRIMARY KEY,
               holder TEXT NOT NULL,
               host TEXT NOT NULL,
               pid INTEGER NOT NULL,
               acquired_at DOUBLE PRECISION NOT NULL,
               expires_at DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE heartbeat (
               name TEXT PRIMARY KEY,
               holder TEXT NOT NULL,
               host TEXT NOT NULL,
               pid INTEGER NOT NULL,
               ticked_at DOUBLE PRECISION NOT NULL,
               tick_seconds DOUBLE PRECISION NOT NULL)""",
    ),
    # 2: transfer statistics (model/stats.py).  A series is one target, tracker domain, label
    #    or torrent of a target; its bytes are summed per bucket (resolution 60, 3600 or 86400
    #    seconds: minute, local hour, local day) as whole numbers, so sums are exact.  The
    #    sampler's last totals per torrent, its state per target, and the events (restarts,
    #    gaps, counters that went back) that graphs draw as gaps.
    (
        """CREATE TABLE stats_series (
               id INTEGER PRIMARY KEY,
               target TEXT NOT NULL,
               kind TEXT NOT NULL,
               key TEXT NOT NULL,
               name TEXT NOT NULL DEFAULT '',
               first_at DOUBLE PRECISION NOT NULL,
               gone_at DOUBLE PRECISION,
               UNIQUE (target, kind, key))""",
        """CREATE TABLE stats_bucket (
               series INTEGER NOT NULL,
               resolution INTEGER NOT NULL,
               start BIGINT NOT NULL,
               up BIGINT NOT NULL,
               down BIGINT NOT NULL,
               PRIMARY KEY (series, resolution, start))""",
        """CREATE TABLE stats_torrent (
               target TEXT NOT NULL,
               hash TEXT NOT NULL,
               up_total BIGINT NOT NULL,
               down_total BIGINT NOT NULL,
               label TEXT NOT NULL,
               tracker TEXT NOT NULL,
               name TEXT NOT NULL,
               PRIMARY KEY (target, hash))""",
        """CREATE TABLE stats_target (
               target TEXT PRIMARY KEY,
               instance TEXT NOT NULL,
               sampled_at DOUBLE PRECISION NOT NULL,
               details_at DOUBLE PRECISION NOT NULL,
               pruned_at DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE stats_event (
               target TEXT NOT NULL,
               kind TEXT NOT NULL,
               started_at DOUBLE PRECISION NOT NULL,
               ended_at DOUBLE PRECISION NOT NULL,
               detail TEXT NOT NULL DEFAULT '',
               PRIMARY KEY (target, kind, started_at))""",
    ),
    # 3: schedules, rules and events (issue 13): what a target's client had at the last
    #    tick (to see what changed), the items a schedule stopped (to start exactly those
    #    again), which rule already acted on which item, the events (each once: its key),
    #    and messages waiting for the webhook.
    (
        """CREATE TABLE seen (
               target TEXT NOT NULL,
               item TEXT NOT NULL,
               data TEXT NOT NULL,
               seen_at DOUBLE PRECISION NOT NULL,
               PRIMARY KEY (target, item))""",
        """CREATE TABLE held (
               target TEXT NOT NULL,
               item TEXT NOT NULL,
               held_by TEXT NOT NULL,
               held_at DOUBLE PRECISION NOT NULL,
               PRIMARY KEY (target, item))""",
        """CREATE TABLE fired (
               target TEXT NOT NULL,
               rule TEXT NOT NULL,
               item TEXT NOT NULL,
               fired_at DOUBLE PRECISION NOT NULL,
               PRIMARY KEY (target, rule, item))""",
        """CREATE TABLE event (
               target TEXT NOT NULL,
               event_key TEXT NOT NULL,
               seq BIGINT NOT NULL,
               at DOUBLE PRECISION NOT NULL,
               kind TEXT NOT NULL,
               subject TEXT NOT NULL DEFAULT '',
               detail TEXT NOT NULL,
               batch TEXT NOT NULL DEFAULT '',
               PRIMARY KEY (target, event_key))""",
        'CREATE INDEX event_by_seq ON event (target, seq)',
        """CREATE TABLE outbox (
               message_key TEXT PRIMARY KEY,
               body TEXT NOT NULL,
               attempts INTEGER NOT NULL DEFAULT 0,
               next_at DOUBLE PRECISION NOT NULL,
               created_at DOUBLE PRECISION NOT NULL,
               last_error TEXT NOT NULL DEFAULT '')""",
    ),
    # 4: a user's own choices for the pages (issue 16: the list's columns), as JSON.
    (
        """CREATE TABLE user_pref (
               user_name TEXT NOT NULL,
               name TEXT NOT NULL,
               value TEXT NOT NULL,
               set_at DOUBLE PRECISION NOT NULL,
               PRIMARY KEY (user_name, name))""",
    ),
)


SCHEMA_VERSION = len(MIGRATIONS)
