"""What a tracker is called: one name from its announce URL, the same in the torrent list,
its tracker filter, the statistics by tracker, the rules' tracker match and /metrics
(docs/api.rst, the list's ``tracker`` parameter)."""
import functools
import ipaddress
import re
import urllib.parse

_HOST_LABEL = re.compile(r'[a-z0-9_-]{1,63}')       # of a host name as DNS spells it (punycode for an IDN)


@functools.lru_cache(maxsize=4096)       # a list page asks it for every torrent; few URLs repeat
def tracker_name(text):
    """What a tracker is known by, everywhere (the list, its filter, the statistics, the
    rules, /metrics), from its announce URL or from a name as this gives it: the URL's host,
    lower case, without port or user; an IDN host in Unicode however the URL spells it; an
    address stays itself; a host name loses 'www.' or any labels in front of its registered
    name ('tracker.example.org' and 'tr2.example.org' are 'example.org', 'x.example.co.uk'
    is 'example.co.uk').  A host that is no host name (a space or markup in it) is kept whole,
    so it cannot pass for another tracker's name; '' for none (no URL, or no host in it)."""
    if not isinstance(text, str) or not text.strip():
        return ''
    text = text.strip()
    try:
        return str(ipaddress.ip_address(text.strip('[]')))     # an address as this gives it
    except ValueError:
        pass
    try:                            # without '://': a name as this gives it, or a host:port/path
        host = urllib.parse.urlsplit(text if '://' in text else '//' + text).hostname or ''
    except ValueError:              # an unbalanced '[' in its host
        return ''
    host = host.rstrip('.')
    if not host:
        return ''
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_form = host.encode('idna').decode('ascii')
        labels = ascii_form.split('.')
        if not all(_HOST_LABEL.fullmatch(label) for label in labels):
            return host
        host = ascii_form.encode('ascii').decode('idna')     # punycode labels back to Unicode
    except UnicodeError:            # an empty or over-long label, or a character IDNA refuses
        return host
    labels = host.split('.')
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else 2
    return '.'.join(labels[-keep:])
