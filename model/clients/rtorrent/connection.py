"""Talking to one rtorrent: XML-RPC over a lib.transport, one command or a batch in one
system.multicall, and what the daemon offers (asked once, kept cache_seconds).

Only commands from this folder's commands.py tables ever leave: a name built from
anything else (a user's text above all) is a bug, stopped before sending.
"""
import time

from lib import xmlrpc
from lib.transport import TransportError, TransportTimeout
from model.clients.errors import BadAnswer, CommandFault, TimedOut, Unreachable, Unsupported
from model.clients.rtorrent import commands

MAX_REQUEST = 500_000   # rtorrent's default network.xmlrpc.size_limit is 524,288 bytes: split below it


class Fault:
    """A command inside a batch that rtorrent refused (the batch itself went through)."""

    def __init__(self, code, text):
        self.code, self.text = code, text

    def __repr__(self):
        return 'Fault(%r, %r)' % (self.code, self.text)


def multicall_body(calls):
    """The XML-RPC request of one system.multicall over [(method, params), ...]."""
    return xmlrpc.dumps(commands.SYSTEM['multicall'],
                        [[{'methodName': m, 'params': list(p)} for m, p in calls]])


class Connection:
    """The round trips of an RTorrent (self.transport, self.name, self.url, self.cache_seconds)."""

    def call(self, method, *params):
        """One command, one round trip."""
        _check_allowed((method,))
        return self._send(xmlrpc.dumps(method, params))

    def multicall(self, calls, limit=MAX_REQUEST):
        """[(method, params), ...] in one system.multicall; a refused command's slot holds a
        Fault instead of a value.  Batches whose request is over `limit` bytes are split
        (in order: rtorrent runs the commands one after the other either way)."""
        if not calls:
            return []
        _check_allowed(m for m, _ in calls)
        body = multicall_body(calls)
        if len(body) > limit and len(calls) > 1:
            half = len(calls) // 2
            return self.multicall(calls[:half], limit) + self.multicall(calls[half:], limit)
        answer = self._send(body)
        if not isinstance(answer, list) or len(answer) != len(calls):
            raise BadAnswer(self, 'system.multicall gave %s for %d commands'
                            % (type(answer).__name__, len(calls)))
        return [Fault(slot.get('faultCode'), slot.get('faultString')) if isinstance(slot, dict)
                else slot[0] if isinstance(slot, list) and len(slot) == 1
                else Fault(None, 'malformed slot %r' % (slot,)) for slot in answer]

    def _send(self, body):
        try:
            return xmlrpc.loads(self.transport.request(body))
        except TransportTimeout as exc:
            raise TimedOut(self, str(exc)) from None
        except TransportError as exc:
            raise Unreachable(self, str(exc)) from None
        except xmlrpc.Fault as exc:
            raise CommandFault(self, '%s (fault %s)' % (exc.faultString, exc.faultCode)) from None
        except xmlrpc.MalformedAnswer as exc:
            raise BadAnswer(self, str(exc)) from None

    # -- what the daemon offers -------------------------------------------------------

    def offers(self):
        """What this daemon offers, asked once (one round trip) and kept cache_seconds by
        this object (a new app, or a restarted daemon behind a new config, asks again):
        {'multicall': its view multicall command, 'api_version': system.api_version,
        'filtered': whether it has commands.FILTERED_MULTICALL}.
        Kept here rather than in Beaker's cache, whose import loads every Beaker backend
        (redis's client among them: 8 MB more in the worker)."""
        kept = getattr(self, '_offers', None)
        if kept is not None and (self.cache_seconds is None or time.monotonic() < kept[0]):
            return kept[1]
        offers = self._detect()
        self._offers = (time.monotonic() + (self.cache_seconds or 0), offers)
        return offers

    def view_multicall(self):
        return self.offers()['multicall']

    def _detect(self):
        names, api_version, version = self.multicall([(commands.SYSTEM['methods'], []),
                                                      (commands.SYSTEM['api_version'], []),
                                                      (commands.GLOBAL['client_version'], [])])
        if isinstance(names, Fault):
            raise CommandFault(self, 'system.listMethods: %s' % names.text)
        methods = set(names)
        found = [name for name in commands.VIEW_MULTICALL if name in methods]
        needed = set(commands.TORRENT.values()) | set(commands.GLOBAL.values()) | set(commands.SYSTEM.values())
        missing = sorted(needed - methods)
        if not found or missing or 'd.get_name' in methods:
            raise Unsupported(self, 'it is rTorrent %s and lacks %s; pyroTorrent needs '
                              'rTorrent 0.9 or newer' % (version, ', '.join(missing or ['d.multicall2'])))
        return {'multicall': found[0], 'api_version': None if isinstance(api_version, Fault) else api_version,
                'filtered': commands.FILTERED_MULTICALL in methods}


def _check_allowed(methods):
    """Only commands from model/clients/rtorrent/commands.py's tables leave pyroTorrent: a name built from
    anything else (a user's text above all) is a bug, stopped here."""
    for method in methods:
        if method not in commands.ALLOWED:
            raise ValueError('%r is not a command in model/clients/rtorrent/commands.py' % (method,))

