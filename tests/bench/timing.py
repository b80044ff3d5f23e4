"""Wall-clock timing for the benchmark scripts: the machine is shared, so each figure is
the best (or the median) of several runs, in milliseconds."""
import statistics
import time


def times_ms(fn, repeat):
    """The wall times of `repeat` calls of fn(), in ms."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def best_ms(fn, repeat):
    """The shortest of `repeat` wall times of fn(), in ms."""
    return min(times_ms(fn, repeat))


def median_ms(fn, repeat):
    """The median of `repeat` wall times of fn(), in ms."""
    return statistics.median(times_ms(fn, repeat))


def timed(fn, repeat):
    """(best, median) of `repeat` wall times of fn(), in ms."""
    times = times_ms(fn, repeat)
    return min(times), statistics.median(times)
