"""The fault proxy itself, against a real Redis: each control does what it says, while
connections are open, and ``normal()`` undoes it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import redis

import realservers
from faultproxy import FaultProxy

VALUE = b"x" * 200_000
PROXY_DB = 13  # this module's own logical database


@pytest.fixture
def proxy(redis_server) -> Iterator[FaultProxy]:
    with FaultProxy.to(redis_server.url) as started:
        yield started
    with redis.Redis.from_url(realservers.redis_db_url(redis_server.url, PROXY_DB)) as direct:
        direct.flushdb()


def client(proxy: FaultProxy, redis_server, timeout: float = 2.0) -> redis.Redis:
    return redis.Redis.from_url(proxy.url(realservers.redis_db_url(redis_server.url, PROXY_DB)),
                                socket_timeout=timeout,
                                socket_connect_timeout=timeout, retry_on_timeout=False,
                                retry=None)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def test_forwards_and_rewrites_urls(proxy, redis_server):
    assert proxy.url("redis://:pw@127.0.0.1:6379/3?x=1") == \
        f"redis://:pw@127.0.0.1:{proxy.port}/3?x=1"
    with client(proxy, redis_server) as r:
        r.set("proxied", VALUE)
        assert r.get("proxied") == VALUE
    assert proxy.accepted == 1 and proxy.forwarded[1] > len(VALUE)


def test_delay_is_per_chunk_each_way_and_changes_on_open_connections(proxy, redis_server):
    with client(proxy, redis_server) as r:
        r.ping()
        assert timed(r.ping) < 0.05
        proxy.delay(0.2)
        assert 0.38 < timed(r.ping) < 0.8  # 0.2 s there, 0.2 s back
        proxy.normal()
        assert timed(r.ping) < 0.05


def test_bandwidth_cap_paces_a_reply(proxy, redis_server):
    with client(proxy, redis_server, timeout=5) as r:
        r.set("big", VALUE)
        proxy.bandwidth(400_000)
        took = timed(lambda: r.get("big"))
        assert 0.4 < took < 1.2, took  # 200 kB at 400 kB/s
        proxy.normal()
        assert timed(lambda: r.get("big")) < 0.2


def test_reset_sends_rst_to_open_connections(proxy, redis_server):
    # A plain socket: redis-py would reconnect behind the test's back.
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        assert sock.recv(100) == b"+PONG\r\n"
        proxy.reset()
        with pytest.raises(ConnectionResetError):
            sock.sendall(b"PING\r\n")
            sock.recv(100)
    assert proxy.open_connections == 0
    with client(proxy, redis_server) as r:
        assert r.ping() is True  # a new connection goes through


def test_blackhole_holds_new_and_open_connections_then_lets_them_go(proxy, redis_server):
    with client(proxy, redis_server, timeout=0.5) as r, \
            client(proxy, redis_server, timeout=0.5) as fresh:
        r.ping()
        proxy.blackhole()
        with pytest.raises(redis.TimeoutError):
            r.ping()
        with pytest.raises(redis.TimeoutError):  # connected (accepted), then no answer
            fresh.ping()
        assert proxy.open_connections == 2
        proxy.normal()
        assert fresh.ping() is True


def test_close_after_n_bytes_cuts_a_reply_short(proxy, redis_server):
    with client(proxy, redis_server) as r:
        r.set("big", VALUE)
        proxy.close_after(50_000)
        with pytest.raises(redis.ConnectionError):
            r.get("big")
        forwarded = proxy.forwarded[1]
        proxy.normal()
        assert r.get("big") == VALUE
        assert proxy.forwarded[1] - forwarded > len(VALUE)


def test_refuse_closes_the_port_and_normal_reopens_it(proxy, redis_server):
    with client(proxy, redis_server) as r:
        r.ping()
        proxy.refuse()
        assert r.ping() is True  # open connections carry on
        with client(proxy, redis_server) as other, \
                pytest.raises(redis.ConnectionError, match="refused"):
            other.ping()
        proxy.normal()
        with client(proxy, redis_server) as other:
            assert other.ping() is True
