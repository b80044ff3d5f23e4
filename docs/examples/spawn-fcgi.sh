#!/bin/sh
# Start one pyroTorrent FastCGI process on the socket lighttpd's fastcgi.server names.
/usr/bin/spawn-fcgi -s /tmp/torrent.sock-1 \
    -u www-data -g www-data \
    -d /home/rtorrent/pyrotorrent/ \
    -- /home/rtorrent/pyrotorrent/.venv/bin/python /home/rtorrent/pyrotorrent/pyrotorrent.py
