"""The one time zone of pyroTorrent: TIME_ZONE, else the system's, as a real zone with its
daylight-saving rules (never the fixed offset of the day a process started)."""
import datetime
import os
import zoneinfo

ZONE_FOLDERS = ('/usr/share/zoneinfo/', '/usr/lib/zoneinfo/', '/usr/share/lib/zoneinfo/')


def time_zone(name=None):
    """The zone schedules and statistics count in: TIME_ZONE, else the system's (TZ, then
    /etc/localtime), else UTC.  ValueError in words for an unknown name."""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError("TIME_ZONE '%s' is not a time zone this machine knows (e.g. 'Europe/Berlin', "
                             "'UTC'; see /usr/share/zoneinfo)" % name) from None
    if os.environ.get('TZ'):
        try:
            return zoneinfo.ZoneInfo(os.environ['TZ'].lstrip(':'))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass                 # a POSIX rule like 'CET-1CEST': the system file knows better
    return _system_zone()


def _system_zone():
    """/etc/localtime by the name its link gives (pages show 'Europe/Berlin'), else as a file."""
    real = os.path.realpath('/etc/localtime')
    for folder in ZONE_FOLDERS:
        if real.startswith(folder):
            try:
                return zoneinfo.ZoneInfo(real[len(folder):])
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                break
    try:
        with open('/etc/localtime', 'rb') as f:
            return zoneinfo.ZoneInfo.from_file(f, key='localtime')
    except (OSError, ValueError):
        return datetime.timezone.utc
