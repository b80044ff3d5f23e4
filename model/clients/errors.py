"""What can go wrong when a page asks a backend, in words a person can act on."""


class BackendError(Exception):
    """A target could not give an answer. str() names the target and the cause."""

    status = 502
    problem = 'could not be asked'

    def __init__(self, backend, cause):
        """backend: the Backend that failed (its name, url and client name the error)."""
        super().__init__(backend.name, backend.url, cause)
        self.target, self.url, self.client, self.cause = backend.name, backend.url, backend.client, cause

    def __str__(self):
        return "%s '%s' at %s %s: %s" % (self.client, self.target, self.url, self.problem, self.cause)

    def as_dict(self):
        return {'target': self.target, 'url': self.url, 'client': self.client, 'problem': self.problem,
                'cause': self.cause, 'message': str(self)}


class Unreachable(BackendError):
    problem = 'is not reachable'


class LoginRefused(BackendError):
    """It answered, and refused who pyroTorrent is (wrong password, an address it does not take)."""
    status = 502
    problem = 'refused pyroTorrent'


class TimedOut(BackendError):
    status = 504
    problem = 'did not answer in time'


class CommandFault(BackendError):
    problem = 'refused a command'


class BadAnswer(BackendError):
    problem = 'sent an answer pyroTorrent cannot read'


class Unsupported(BackendError):
    problem = 'is not a version pyroTorrent can use'


class NotFound(Exception):
    """The thing a URL names does not exist (no such target, view or torrent)."""

    status = 404
