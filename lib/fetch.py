"""Fetching a .torrent from a direct link a user pasted, without becoming their proxy.

    fetch(url, policy=None) -> bytes              the body, at most policy.max_bytes
    fetch_metafile(url, policy=None) -> Metafile  the same, checked by lib.metafile.parse
    fetch_metafiles(lines, policy=None) -> [Metafile, Magnet or the error]   one request's links
    Policy(allow_private=False, allow_networks=(), timeout=15.0, max_bytes=..., max_redirects=5)
    Policy.from_config(config)                    config.py's FETCH_ALLOW_PRIVATE, FETCH_ALLOW_NETWORKS
    FetchError (a ValueError)                     '<url>: 10.0.0.1 is a private address (...)'
        .refused   True when pyroTorrent's rules turned the link down (an address, the size,
                   the scheme), False when fetching it failed (unreachable, a timeout, a 404)
        .network   for an address refused as not public: the ip_address that was
                   (a change to FETCH_ALLOW_NETWORKS could allow it), else None

A link is fetched over http or https only.  Its host name is resolved here, every address
is checked, and the connection goes to the checked address itself (the URL is rewritten to
it, the Host header and the TLS server name stay the name's): a DNS answer that changes
between the check and the connect (DNS rebinding) cannot send the request elsewhere.
By default an address must be public: loopback, private, link-local (169.254/16, fe80::/10,
the cloud metadata address), unspecified, multicast, reserved, shared (100.64/10) and the
other non-global ranges are refused, IPv4-mapped and 6to4 IPv6 addresses by the IPv4
address inside.  Policy.allow_networks names networks allowed anyway (a tracker on the
LAN: ['192.168.1.0/24']); allow_private=True lifts the rule altogether.  Redirects are
followed by hand, each under the same rules, at most max_redirects of them.  The body is
read in chunks and the reading stops past max_bytes.  The whole fetch (every redirect, the
headers, the body) has `timeout` seconds, whatever the server does: the socket is shut
down when the time is up, so a server that trickles a byte a second cannot hold it.
fetch_metafiles fetches the links of one request side by side, on threads of its own
(at most `workers`), so one user's slow links never hold another's.
Proxies from the environment are ignored (they would resolve names themselves).
"""
import concurrent.futures
import dataclasses
import ipaddress
import re
import socket
import time
import urllib.parse

import requests
import requests.adapters
import urllib3

from lib import metafile
from lib.deadline import Deadline

__all__ = ['fetch', 'fetch_metafile', 'fetch_metafiles', 'Policy', 'FetchError']

REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = 'pyroTorrent (fetching a .torrent a user linked)'


class FetchError(ValueError):
    """A link that could not be fetched or was refused; str() says which and why.  The
    reason never starts with "refused": a page puts its own word before it."""

    def __init__(self, url, reason, refused=False, network=None):
        super().__init__('%s: %s' % (url, reason))
        self.url, self.reason, self.source = url, reason, url
        self.refused, self.network = refused or network is not None, network


@dataclasses.dataclass(frozen=True)
class Policy:
    """What fetch() may do.  allow_networks: CIDR texts or ipaddress networks."""
    allow_private: bool = False
    allow_networks: tuple = ()
    timeout: float = 15.0     # one link, from connecting to the last byte
    batch_timeout: float = 60.0   # one request's links together (they are fetched a few at a time)
    max_bytes: int = metafile.MAX_SIZE
    max_redirects: int = 5
    ca_bundle: str = None     # a CA file to trust instead of the system's (an internal CA)

    def __post_init__(self):
        networks = []
        for net in self.allow_networks:
            try:
                networks.append(ipaddress.ip_network(net, strict=False))
            except (ValueError, TypeError):
                raise ValueError('allow_networks: %r is not a network like "192.168.1.0/24"' % (net,)) from None
        object.__setattr__(self, 'allow_networks', tuple(networks))

    @classmethod
    def from_config(cls, config, **more):
        """The Policy a lib.config.Config sets (FETCH_ALLOW_PRIVATE, FETCH_ALLOW_NETWORKS)."""
        return cls(allow_private=config.FETCH_ALLOW_PRIVATE, allow_networks=config.FETCH_ALLOW_NETWORKS, **more)

    def refused_address(self, address):
        """(why, the ip_address refused) for an address (text) that may not be fetched
        from, or None if it may."""
        ip = ipaddress.ip_address(address.split('%', 1)[0])
        if self.allow_private:
            return None
        inner = _inner_ipv4(ip)
        for candidate in filter(None, (ip, inner)):
            if any(candidate.version == net.version and candidate in net for net in self.allow_networks):
                return None
        for candidate in filter(None, (inner, ip)):
            kind = _kind(candidate)
            if kind:
                shown = address if candidate is ip else '%s (%s)' % (address, candidate)
                return '%s is %s address' % (shown, kind), candidate
        return None


def _inner_ipv4(ip):
    """The IPv4 address an IPv6 address carries (mapped ::ffff:a.b.c.d, 6to4, compatible)."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in _NAT64 or ip in _COMPATIBLE and int(ip) > 1:
        return ipaddress.ip_address(int(ip) & 0xFFFFFFFF)
    return None


_NAT64 = ipaddress.ip_network('64:ff9b::/96')
_COMPATIBLE = ipaddress.ip_network('::/96')


def _kind(ip):
    """'a private' etc. for an address that is not public, else None."""
    for test, kind in (('is_unspecified', 'an unspecified'), ('is_loopback', 'a loopback'),
                       ('is_link_local', 'a link-local'), ('is_multicast', 'a multicast'),
                       ('is_private', 'a private'), ('is_reserved', 'a reserved')):
        if getattr(ip, test):
            return kind
    if not ip.is_global:
        return 'a non-public'
    return None


class _PinnedAdapter(requests.adapters.HTTPAdapter):
    """Connects to the URL's (checked) IP address while TLS checks the original host name;
    every socket it opens is shut down at the fetch's deadline."""

    def __init__(self, host_name, deadline):
        self.host_name, self.deadline = host_name, deadline
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            'http': _watched(urllib3.HTTPConnectionPool, self.deadline),
            'https': _watched(urllib3.HTTPSConnectionPool, self.deadline)}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if host_params.get('scheme') == 'https':
            pool_kwargs['server_hostname'] = self.host_name
            pool_kwargs['assert_hostname'] = self.host_name
        return host_params, pool_kwargs


def _watched(pool_class, deadline):
    """A urllib3 pool class whose connections' sockets the deadline watches (the plain one
    as soon as it exists, for the TLS handshake; the TLS one once wrapped)."""
    class Connection(pool_class.ConnectionCls):
        def _new_conn(self):
            sock = super()._new_conn()
            deadline.watch(sock)
            return sock

        def connect(self):
            super().connect()
            deadline.watch(self.sock)
    return type('Watched' + pool_class.__name__, (pool_class,), {'ConnectionCls': Connection})


def fetch(url, policy=None):
    """The body of a direct link (http or https), under `policy` (default: Policy());
    FetchError, in words, for anything refused or failed."""
    policy = policy or Policy()
    deadline = Deadline(policy.timeout)
    try:
        return _fetch(url, policy, deadline)
    finally:
        deadline.close()


def _fetch(url, policy, deadline):
    original = url
    for hop in range(policy.max_redirects + 1):
        response = _request(url, policy, deadline)
        try:
            if response.status_code in REDIRECTS:
                location = response.headers.get('Location')
                if not location:
                    raise FetchError(url, 'it redirects without saying where to')
                url = urllib.parse.urljoin(url, location)
                continue
            if response.status_code != 200:
                raise FetchError(url, 'the server answered %d %s' % (response.status_code, response.reason or ''))
            return _read(url, response, policy, deadline)
        finally:
            response.close()
            response.session.close()
    raise FetchError(original, 'it redirects more than %d times' % policy.max_redirects)


def fetch_metafile(url, policy=None):
    """fetch(url), then lib.metafile.parse of the bytes (MetafileError names the url)."""
    return metafile.parse(fetch(url, policy), source=url)


def fetch_metafiles(lines, policy=None, workers=4):
    """One request's links, in order: a Magnet for a magnet: line (parsed, not fetched),
    else the Metafile its link leads to; the FetchError or MetafileError instead of either.
    At most `workers` fetches run at once, on threads this call owns and ends."""
    policy = policy or Policy()
    batch_end = time.monotonic() + policy.batch_timeout

    def item(line):
        try:
            if line.lower().startswith('magnet:'):
                return metafile.parse_magnet(line, line)
            left = batch_end - time.monotonic()
            if left <= 0:
                raise FetchError(line, 'the links before it took the %g s one add may take; '
                                       'add it again' % policy.batch_timeout)
            return fetch_metafile(line, policy if left >= policy.timeout
                                  else dataclasses.replace(policy, timeout=max(0.1, round(left, 1))))
        except (FetchError, metafile.MetafileError) as exc:
            return exc

    links = [line for line in lines if not line.lower().startswith('magnet:')]
    if len(links) <= 1:
        return [item(line) for line in lines]
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(links)),
                                               thread_name_prefix='fetch') as pool:
        return list(pool.map(item, lines))


def _request(url, policy, deadline):
    def refuse(reason, refused=False, network=None):
        raise FetchError(url, reason, refused, network)

    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        refuse('not a link pyroTorrent can read (%s)' % exc, refused=True)
    scheme = parts.scheme.lower()
    if scheme not in ('http', 'https'):
        refuse('only http and https links can be fetched%s'
               % (', not ' + scheme if scheme else ''), refused=True)
    host = parts.hostname
    if not host:
        refuse('the link names no host', refused=True)
    port = port or (443 if scheme == 'https' else 80)
    address = _checked_address(host, port, policy, refuse)
    literal = '[%s]' % address if ':' in address else address
    pinned = urllib.parse.urlunsplit((scheme, '%s:%d' % (literal, port), parts.path or '/', parts.query, ''))
    host_header = ('[%s]' % host if ':' in host else host) + ('' if parts.port is None else ':%d' % port)
    session = requests.Session()
    session.trust_env = False                       # no proxies, no .netrc from the environment
    session.mount('%s://' % scheme, _PinnedAdapter(host, deadline))
    left = deadline.remaining()
    if left <= 0:
        refuse(_too_slow(policy))
    try:
        response = session.get(pinned, headers={'Host': host_header, 'User-Agent': USER_AGENT,
                                                'Accept-Encoding': 'identity'},
                               allow_redirects=False, stream=True, timeout=(left, left),
                               verify=policy.ca_bundle or True)
    except requests.exceptions.RequestException as exc:
        session.close()
        refuse(_too_slow(policy) if deadline.cut else _failure(exc, address, policy))
    response.session = session                      # closed with the response, once read
    return response


def _too_slow(policy):
    return 'no complete answer within %g s' % policy.timeout


def _failure(exc, address, policy):
    if isinstance(exc, requests.exceptions.Timeout):
        return _too_slow(policy)
    if isinstance(exc, requests.exceptions.SSLError):
        return 'its TLS certificate cannot be trusted (%s)' % _short(exc)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return 'cannot connect to %s (%s)' % (address, _short(exc))
    return 'the request failed (%s)' % _short(exc)


def _checked_address(host, port, policy, refuse):
    """The first address of host that policy allows; FetchError if none (naming why)."""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            refuse('cannot find the address of %s (%s)' % (host, getattr(exc, 'strerror', None) or exc))
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refusals = []
    for address in addresses:
        refused = policy.refused_address(address)
        if refused is None:
            return address
        refusals.append(refused)
    reason, network = refusals[0]
    refuse('%s; links to this machine or its local networks are not fetched' % reason, network=network)


def _read(url, response, policy, deadline):
    declared = response.headers.get('Content-Length', '')
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchError(url, 'it is %s bytes, more than the %s bytes a .torrent may have'
                         % ('{:,}'.format(int(declared)), '{:,}'.format(policy.max_bytes)), refused=True)
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(65536):
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchError(url, 'it is more than the %s bytes a .torrent may have'
                                 % '{:,}'.format(policy.max_bytes), refused=True)
            if deadline.passed:
                raise FetchError(url, _too_slow(policy))
            chunks.append(chunk)
    except requests.exceptions.RequestException as exc:
        if deadline.cut:
            raise FetchError(url, _too_slow(policy)) from None
        raise FetchError(url, 'the download broke off (%s)' % _short(exc)) from None
    if deadline.cut:                # a body cut short can look complete when no length was given
        raise FetchError(url, _too_slow(policy))
    return b''.join(chunks)


def _short(exc):
    """The words of an error, without urllib3's wrapping ('Connection refused')."""
    text = str(exc)
    errno_text = re.search(r'\[Errno -?\d+\] ([^\'"()\]]+)', text)
    if errno_text:
        return errno_text.group(1).strip().lower()
    return text if len(text) < 200 else text[:200] + '...'
