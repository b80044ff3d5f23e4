"""Jinja2 filters that turn rtorrent's numbers into what a person reads."""
import time

_UNITS = ('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB')


def size(value):
    value = float(value or 0)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return '%d %s' % (value, unit) if unit == 'B' else '%.1f %s' % (value, unit)
        value /= 1024


def rate(value):
    return size(value) + '/s' if value else '–'


def limit(value):
    return rate(value) if value else 'unlimited'


def percent(fraction):
    return '%.1f %%' % (100 * fraction) if fraction < 1 else '100 %'


def ratio(value):
    return '∞' if value == float('inf') else '%.2f' % value     # Transmission's uploaded, nothing downloaded


def duration(seconds):
    if seconds is None:
        return '–'
    seconds = int(seconds)
    for unit, length in (('d', 86400), ('h', 3600), ('m', 60)):
        if seconds >= length:
            rest = seconds % length
            sub = {'d': ('h', 3600), 'h': ('m', 60), 'm': ('s', 1)}[unit]
            return '%d%s %d%s' % (seconds // length, unit, rest // sub[1], sub[0])
    return '%ds' % seconds


def date(timestamp):
    return time.strftime('%Y-%m-%d %H:%M', time.localtime(timestamp)) if timestamp else '–'


FILTERS = {'size': size, 'rate': rate, 'limit': limit, 'percent': percent, 'ratio': ratio,
           'duration': duration, 'date': date}
