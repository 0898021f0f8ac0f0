"""A server that wants a password says whether none was given or the one given was refused, for
each kind, against real servers that require one."""

from __future__ import annotations

import pytest

from conftest import MONGO_PASSWORD, PG_PASSWORD, REDIS_PASSWORD
from studio_tui.services.errors import AuthenticationError

NONE_GIVEN = "requires a password, and none was given"
REFUSED = "refused the credentials"


async def _auth_error(manager, catalog, project_id, url: str, operation) -> AuthenticationError:
    entry = await catalog.add_database(project_id, "target", url)
    with pytest.raises(AuthenticationError) as caught:
        await manager.run(entry.id, "probe", operation)
    return caught.value


def _redis_ping(client):
    return client.ping()


@pytest.mark.parametrize("password, expected", [
    ("", NONE_GIVEN),
    (":@", NONE_GIVEN),  # an empty password is no password
    (":Not-The-Password@", REFUSED),
])
async def test_redis_says_when_no_password_was_given(catalog, project_id, manager,
                                                     redis_auth_server, password, expected):
    url = redis_auth_server.url.replace(f":{REDIS_PASSWORD}@", password)
    error = await _auth_error(manager, catalog, project_id, url, _redis_ping)
    assert expected in error.detail, error.detail


async def test_redis_says_when_a_password_was_given_to_a_server_without_one(
        catalog, project_id, manager, redis_server):
    url = redis_server.url.replace("redis://", "redis://:needless@")
    error = await _auth_error(manager, catalog, project_id, url, _redis_ping)
    assert "has no password set" in error.detail, error.detail


@pytest.mark.parametrize("password, expected", [
    ("", "requires a password, and none was given"),
    (":Wr0ng-Pa55word@", REFUSED),
])
async def test_postgres_says_when_no_password_was_given(catalog, project_id, manager,
                                                        postgres_server, password, expected):
    url = postgres_server.url.replace(f":{PG_PASSWORD}@", password or "@")
    assert url != postgres_server.url
    error = await _auth_error(manager, catalog, project_id, url,
                              lambda connection: connection.fetchval("SELECT 1"))
    assert expected in error.detail, error.detail


@pytest.mark.parametrize("credentials, expected", [
    ("", "requires credentials, and none were given"),
    ("app:Wr0ng-Pa55word@", REFUSED),
])
async def test_mongodb_says_when_no_credentials_were_given(catalog, project_id, manager,
                                                           mongo_auth_server, credentials,
                                                           expected):
    url = mongo_auth_server.url.replace(f"app:{MONGO_PASSWORD}@", credentials)
    error = await _auth_error(manager, catalog, project_id, url,
                              lambda client: client.shop.orders.find_one())
    assert expected in error.detail, error.detail


async def test_mongodb_keeps_saying_the_credentials_were_refused_on_later_calls(
        catalog, project_id, manager, mongo_auth_server):
    # After a refused sign-in pymongo marks the server unknown; later calls fail in server
    # selection, and must still name the cause, not a time-out.
    url = mongo_auth_server.url.replace(f"app:{MONGO_PASSWORD}@", "app:Wr0ng-Pa55word@")
    entry = await catalog.add_database(project_id, "target", url)
    for _ in range(3):
        with pytest.raises(AuthenticationError) as caught:
            await manager.run(entry.id, "probe", lambda client: client.shop.orders.find_one())
        assert REFUSED in caught.value.detail, caught.value.detail
