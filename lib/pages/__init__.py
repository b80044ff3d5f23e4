"""The web layer: pyroTorrent's pages, one module an area (Flask's flaskr has auth.py and
blog.py beside create_app()).

    base.py        Pages, what every area uses; the small helpers of their forms
    accounts.py    login, logout, /api/session
    lists.py       the front page, a target's list and views, the columns
    live.py        the lists' live refresh (what a refresh asks again, shared by its viewers)
    torrents.py    the torrent page and every action
    downloads.py   a torrent's .torrent, files and zips
    adding.py      adding by upload, link and magnet
    settings.py    settings, quick limits, alternative speeds
    statistics.py  statistics pages, JSON, CSV, /metrics
    automation.py  schedules, rules and events
    app.py         PyroTorrent: the areas over lib/web.App, one Backend a target

Each handler carries its rule and least role (lib.web.expose); pyrotorrent.py's make_app
builds the WSGI app from PyroTorrent.
"""
