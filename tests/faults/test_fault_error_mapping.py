"""Driver errors that mean "the connection went away mid-call", as the fault suite met them,
become outages the user can read (and the breaker counts), not "Unexpected …" errors."""

from __future__ import annotations

import pytest
from pymongo import errors as mongo_errors
from redis import exceptions as redis_errors

from studio_tui.services.drivers.mongo_driver import MongoConnection
from studio_tui.services.drivers.redis_driver import RedisConnection
from studio_tui.services.errors import ConnectionFailedError, OperationTimeoutError, RefusedError
from studio_tui.services.kinds import KINDS, DatabaseKind
from studio_tui.services.tiers import TIER_LIMITS, Tier


def connection(kind: DatabaseKind, url: str):
    made = {DatabaseKind.MONGODB: MongoConnection, DatabaseKind.REDIS: RedisConnection}[kind]
    return made(url, "db", TIER_LIMITS[Tier.FREE], KINDS[kind].pool)


@pytest.mark.parametrize("kind, url, error, expected, words", [
    # pymongo cancels a socket read when its monitor clears the pool of a server that stopped
    # answering (seen with the server frozen by SIGSTOP).
    (DatabaseKind.MONGODB, "mongodb://127.0.0.1:27017/",
     mongo_errors._OperationCancelled("operation cancelled"), ConnectionFailedError,
     "The connection to 127.0.0.1:27017 was lost: operation cancelled."),
    (DatabaseKind.MONGODB, "mongodb://127.0.0.1:27017/",
     mongo_errors.AutoReconnect("connection closed"), ConnectionFailedError,
     "was lost: connection closed."),
    (DatabaseKind.MONGODB, "mongodb://127.0.0.1:27017/",
     mongo_errors.NetworkTimeout("127.0.0.1:27017: timed out"), OperationTimeoutError,
     "No answer from 127.0.0.1:27017 in time."),
    # redis-py's words for a connection the server (or the network) closed mid-reply.
    (DatabaseKind.REDIS, "redis://127.0.0.1:6379/0",
     redis_errors.ConnectionError("Connection closed by server."), ConnectionFailedError,
     "The connection to 127.0.0.1:6379 was lost: Connection closed by server."),
    (DatabaseKind.REDIS, "redis://127.0.0.1:6379/0",
     redis_errors.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
     RefusedError, "Nothing is listening at 127.0.0.1:6379"),
])
def test_a_lost_connection_is_an_outage_in_plain_words(kind, url, error, expected, words):
    mapped = connection(kind, url).map_error(error)
    assert type(mapped) is expected, repr(mapped)
    assert mapped.is_outage and mapped.database == "db"
    assert words in str(mapped)
