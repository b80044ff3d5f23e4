"""flup's threaded FastCGI server, with its thread pool's count of spare threads mended.

flup's ThreadPool keeps at least minSpare idle threads, but counts as idle a thread that
has not yet taken the job handed to it: connections that arrive together (lighttpd opens
one a request) are queued behind busy threads instead of each getting a thread.  With 10
viewers stuck on a hung rTorrent, the next request, for any target, waited until one of
them timed out.  Here a queued job is counted against the idle threads, so every request
gets a thread of its own at once (flup's default: no limit on their number).
"""
import threading

from flup.server import fcgi, threadpool


class ThreadPool(threadpool.ThreadPool):
    def addJob(self, job, allowQueuing=True):
        with self._lock:
            # the threads that stay idle once the queued jobs are taken
            while self._idleCount - len(self._workQueue) <= self._minSpare \
                    and self._workerCount < self._maxThreads:
                try:
                    self._start_new_thread()
                except RuntimeError:        # the system has no thread to give
                    break
                self._workerCount += 1
                self._idleCount += 1
            if self._idleCount > len(self._workQueue) or allowQueuing:
                self._workQueue.append(job)
                self._lock.notify()
                return True
            return False

    def _worker(self):
        """flup's, with the same count: a thread ends when, its job done, more than maxSpare
        would stay idle once the queued jobs are taken (flup's asserted idle <= maxSpare)."""
        with self._lock:
            while True:
                while not self._workQueue and not self._stop:
                    self._lock.wait()
                if self._stop:
                    return
                job = self._workQueue.pop(0)
                self._idleCount -= 1
                self._lock.release()
                try:
                    job.run()
                except Exception:       # as flup: a job's failure is its own (flup's Request logs it)
                    pass
                finally:
                    self._lock.acquire()
                if self._idleCount - len(self._workQueue) >= self._maxSpare:
                    self._workerCount -= 1
                    self._threads.remove(threading.current_thread())
                    return
                self._idleCount += 1


class WSGIServer(fcgi.WSGIServer):
    """flup.server.fcgi.WSGIServer (the same arguments), on the pool above."""

    def __init__(self, application, **kw):
        pool = {k: kw.pop(k) for k in ('minSpare', 'maxSpare', 'maxThreads') if k in kw}
        super().__init__(application, **kw)
        self._threadPool.shutdown()         # flup's own, started empty; replaced before run()
        self._threadPool = ThreadPool(**pool)
