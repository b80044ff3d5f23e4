"""The serving process itself (pyrotorrent.main): what it sets up before it serves."""
import pyrotorrent


def test_the_serving_process_caps_glibc_malloc_arenas(monkeypatch):
    """tests/bench/bench_live.py: 81.4 MB peak with glibc's default arenas, 72.4 MB with 2."""
    monkeypatch.delenv('MALLOC_ARENA_MAX', raising=False)
    assert pyrotorrent.fewer_malloc_arenas() is True        # glibc (Debian 12) took it
    monkeypatch.setenv('MALLOC_ARENA_MAX', '8')             # the user's own choice stays
    assert pyrotorrent.fewer_malloc_arenas() is False
