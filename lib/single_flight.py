"""One answer shared by every request that asks the same question at the same time.

    flights = SingleFlight(clock=time.monotonic)
    flights.get(key, ask, keep=0.0, keep_failure=0.0, failures=(Exception,))

Concurrent callers with the same key wait for the one call of `ask()` in flight and all get
its answer (or its exception).  `keep` seconds: the answer is handed to later callers too;
`keep_failure` seconds: an exception of `failures` is, so a target that is down costs one
timeout however many people look, not one each.  Kept per process.
"""
import threading
import time


class SingleFlight:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._flights = {}           # key -> _Flight in progress
        self._kept = {}              # key -> (until, answer, exception)

    def get(self, key, ask, keep=0.0, keep_failure=0.0, failures=(Exception,)):
        """(answer, age): what ask() gave, and how many seconds ago it was asked (0.0 when
        this call asked); raises what ask() raised, its age in exc.answer_age."""
        with self._lock:
            now = self.clock()
            kept = self._kept.get(key)
            if kept and kept[0] > now:
                until, answer, error, asked = kept
                if error is not None:
                    error.answer_age = now - asked
                    raise error
                return answer, now - asked
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight(now)
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                flight.error.answer_age = self.clock() - flight.asked
                raise flight.error
            return flight.answer, self.clock() - flight.asked
        try:
            flight.answer = ask()
        except BaseException as exc:
            flight.error = exc
        finally:
            with self._lock:
                del self._flights[key]
                now = self.clock()
                if flight.error is None and keep > 0:
                    self._kept[key] = (now + keep, flight.answer, None, flight.asked)
                elif isinstance(flight.error, failures) and keep_failure > 0:
                    self._kept[key] = (now + keep_failure, None, flight.error, flight.asked)
                else:
                    self._kept.pop(key, None)
                if len(self._kept) > 10000:     # many keys must not fill memory
                    self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
            flight.done.set()
        if flight.error is not None:
            flight.error.answer_age = 0.0
            raise flight.error
        return flight.answer, 0.0


class _Flight:
    def __init__(self, asked):
        self.asked = asked
        self.done = threading.Event()
        self.answer = self.error = None
