"""Bad input, connection URLs: the entry form and `db add` (``parse_connection_url``), masking,
the form's password field (``split_password`` / ``with_password``) and the pg-meta URL.

Property: a URL is accepted, shown masked (no password anywhere), and its password field
round-trips; or it is refused with a ValidationError that names the URL field and never
shows the password."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import example, given
from hypothesis import strategies as st

from fuzz_checks import assert_specific, fuzz_settings
from studio_tui.services.errors import StudioError, ValidationError
from studio_tui.services.kinds import KINDS, SCHEMES
from studio_tui.services.postgres.meta import PgMetaSettings
from studio_tui.services.redaction import mask_url
from studio_tui.services.urls import parse_connection_url, split_password, with_password

# Everything but the secret is drawn without "S": the marker "S3cr" can then only come from
# the password, so finding it in an output is a leak, never a coincidence.
_PLAIN = st.characters(blacklist_characters="S", blacklist_categories=("Cs",))
_URL_PUNCT = st.sampled_from(list(":/@?#[]%=&,;.+-_ \t\n\\'\"\x00"))
_PART = st.lists(_PLAIN | _URL_PUNCT, max_size=14).map("".join)
_HOST = st.sampled_from(["db", "127.0.0.1", "[::1]", "a.example.com", "", "h1:1,h2:2",
                         "ĥöst", "[", "]", "[::1", "host:"]) | _PART
_PORT = st.sampled_from(["", ":5432", ":0", ":99999", ":-1", ":x", ":６", ": 1", "::"]) | \
    _PART.map(lambda p: ":" + p)
_SECRET = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=16).map(
    lambda tail: "S3cr" + tail)
_SCHEME = st.sampled_from(sorted(SCHEMES) + ["http", "mysql", "REDIS", "Postgres", ""])


@st.composite
def urls(draw, *, encode: bool) -> tuple[str, str]:
    """(a URL as a user may type it, the password in it)."""
    secret = draw(_SECRET)
    shown = quote(secret, safe="") if encode else secret
    # A user name with '/', '?', '#' or '@' makes what follows a path or a query, no longer a
    # password; those characters are tried in the password instead.
    user = draw(st.sampled_from(["app", "", "ü"]) | _PART.filter(
        lambda name: not set(name) & set("/?#@")))
    userinfo = draw(st.sampled_from([f"{user}:{shown}@", f":{shown}@", f"{user}@", ""]))
    query = draw(st.sampled_from(["", f"?password={shown}", f"?sslmode=require&password={shown}",
                                  "?db=2", "?host=/run/postgresql", "?directConnection=true"]))
    url = (f"{draw(_SCHEME)}://{userinfo}{draw(_HOST)}{draw(_PORT)}"
           f"{draw(st.sampled_from(['', '/', '/0', '/shop', '/x/y', '/run/redis.sock']) | _PART)}"
           f"{query}")
    return draw(st.sampled_from([url, f"  {url}\n", url.upper()]) | _PART.map(lambda p: url + p)), \
        secret if secret in url or shown in url else ""


def _check(url: str, secret: str) -> None:
    try:
        target = parse_connection_url(url)
    except ValidationError as error:
        assert_specific(error, secret, quote(secret, safe=""))
        assert error.field_errors.get("url"), error
        return
    except Exception as error:  # noqa: BLE001 - the property: nothing but a StudioError
        assert_specific(error)
    assert target.kind is SCHEMES[target.scheme]
    if secret:
        assert secret not in target.masked_url and quote(secret, safe="") not in target.masked_url
        assert secret not in target.display_host


@fuzz_settings(ci=300)
@given(urls(encode=True))
@example(("postgresql://app:S3cr%2Fx@db:5432/shop", "S3cr/x"))
@example(("mongodb://u:S3cr@h1:1,h2:2/?replicaSet=rs", "S3cr"))
@example(("mongodb://app:S3cr0@db#?password=S3cr0", "S3cr0"))  # was shown: fragment not masked
@example(("mongodb://[:S3cr0@]", "S3cr0"))  # was shown: urlsplit's message repeats the host
def test_an_encoded_password_never_shows(case: tuple[str, str]) -> None:
    _check(*case)


@fuzz_settings(ci=300)
@given(urls(encode=False))
@example(("mongodb://app:S3cr\r@[", "S3cr\r"))  # was shown: the masks stopped at the '\r'
@example(("postgresql://app:S3cr/x@db/shop", "S3cr/x"))  # was shown: "port 'S3cr'" in the error
def test_a_raw_password_never_shows(case: tuple[str, str]) -> None:
    """Typed unencoded, a password may hold '/', '#', '?' or '@' that break the URL apart; a
    refusal must still not repeat it."""
    _check(*case)


@fuzz_settings(ci=200)
@given(st.text(max_size=60))
@example("redis://[")
@example("postgresql://u:p@[::1/x")
def test_any_text_is_accepted_or_refused_with_a_field_error(text: str) -> None:
    try:
        target = parse_connection_url(text)
    except StudioError as error:
        assert_specific(error)
        assert error.field_errors.get("url")
        return
    assert target.kind in KINDS


@fuzz_settings(ci=200)
@given(urls(encode=True))
@example(("://app:S3cr0@db", "S3cr0"))  # was shown: no scheme, nothing masked
def test_masking_hides_every_password(case: tuple[str, str]) -> None:
    url, secret = case
    masked = mask_url(url)
    if secret and "@" in url.split("://", 1)[-1]:
        assert secret not in masked and quote(secret, safe="") not in masked


@fuzz_settings(ci=200)
@given(urls(encode=True), _SECRET)
@example(("mongodb://app@?@", ""), "S3cr0")  # was 'mongodb://app@?:S3cr0@', shown unmasked
def test_the_form_password_field_round_trips(case: tuple[str, str], password: str) -> None:
    """The entry form keeps the password apart from the URL field and puts it back on save."""
    url, _ = case
    bare, _old = split_password(url)
    joined = with_password(bare, password)
    again, recovered = split_password(joined)
    if "://" in url:
        assert recovered == password, (bare, joined)
        # "redis://@h" comes back as "redis://h": the same URL.
        assert again in (bare, bare.replace("://@", "://", 1))
        assert password not in mask_url(joined)


@fuzz_settings(ci=200)
@given(st.tuples(st.sampled_from(["http://", "https://", "ftp://", ""]), _HOST, _PORT, _PART)
       .map("".join), _SECRET)
@example("http://[", "S3cr-key-of-sixteen")
@example("https://[::1", "S3cr-key-of-sixteen")
@example("http://[zz]:1", "S3cr-key-of-sixteen")
def test_a_pg_meta_url_and_key_are_accepted_or_refused(url: str, key: str) -> None:
    try:
        settings = PgMetaSettings.parse(url, key)
    except Exception as error:  # noqa: BLE001 - the property: nothing but a StudioError
        assert_specific(error, key if len(key) >= 8 else "")
        assert set(error.field_errors) & {"meta_url", "meta_key"}
        return
    assert settings.url.startswith(("http://", "https://"))
    assert key not in repr(settings)


# -- the drivers: a URL the form accepts, with any options, opens or says what is wrong ------
OPTIONS = {
    "redis": ["db", "socket_timeout", "socket_connect_timeout", "max_connections", "protocol",
              "client_name", "health_check_interval", "ssl_cert_reqs", "retry_on_timeout",
              "password", "foo"],
    "mongodb": ["maxPoolSize", "tls", "authSource", "authMechanism", "replicaSet",
                "readPreference", "w", "serverSelectionTimeoutMS", "appname", "foo"],
    "postgresql": ["sslmode", "connect_timeout", "target_session_attrs", "application_name",
                   "options", "port", "user", "foo"],
}
OPTION_VALUES = st.sampled_from(["", "0", "1", "-1", "x", "true", "maybe", "3", "99999999999",
                                 "require", "disable", "primary", "SCRAM-SHA-256", "é", "%zz",
                                 "1.5", "nan"])


@st.composite
def driver_urls(draw, servers: dict[str, str]) -> str:
    scheme = draw(st.sampled_from(sorted(servers)))
    base = servers[scheme]
    options = draw(st.lists(st.tuples(st.sampled_from(OPTIONS[scheme]), OPTION_VALUES),
                            max_size=3))
    path = draw(st.sampled_from(["", "/", "/0", "/15", "/16", "/x", "/-1", "/d b", "/postgres"]))
    query = "&".join(f"{name}={value}" for name, value in options)
    return f"{base}{path}{'?' + query if query else ''}"


def test_accepted_urls_open_or_fail_with_a_specific_error(redis_server, mongo_server,
                                                          postgres_server, tmp_path) -> None:
    """The kinds' own URL checks: what parse_connection_url lets through reaches the driver,
    whose refusal (a bad option value, an unknown option) must read as one."""
    import asyncio

    from studio_tui.services.catalog import Catalog
    from studio_tui.services.manager import ConnectionManager
    from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
    from studio_tui.services.vault import KeyMaterial, Vault

    def authority(url: str) -> str:
        return url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]

    servers = {"redis": f"redis://{authority(redis_server.url)}",
               "mongodb": f"mongodb://{authority(mongo_server.url)}",
               "postgresql": f"postgresql://{authority(postgres_server.url)}"}
    with asyncio.Runner() as runner:
        store = SqliteCatalogStore(tmp_path / "catalog.sqlite3")
        runner.run(store.__aenter__())
        catalog = Catalog(store, Vault(KeyMaterial(b"k" * 32, "fuzz key")))
        org = runner.run(catalog.create_organization("Fuzz"))
        project = runner.run(catalog.create_project(org.id, "urls"))
        manager = ConnectionManager(catalog)
        runner.run(manager.__aenter__())

        async def open_and_check(url: str):
            entry = await catalog.add_database(project.id, f"e{len(await catalog.databases())}",
                                               url)
            try:
                return await manager.check(entry.id)
            finally:
                await catalog.delete_database(entry.id)

        @fuzz_settings(ci=40)
        @given(driver_urls(servers))
        @example(servers["redis"] + "/0?db=x")  # was "Unexpected ValueError talking to …"
        @example(servers["redis"] + "/0?protocol=3")  # was a TypeError: protocol given twice
        @example(servers["redis"] + "/0?foo=bar")  # was a TypeError: unexpected keyword
        @example(servers["redis"] + "/0?ssl_cert_reqs=maybe")
        @example(servers["postgresql"] + "/postgres?sslmode=maybe")  # was "Unexpected …"
        @example(servers["postgresql"] + ",127.0.0.1:1/postgres")  # was refused: two hosts
        def check(url: str) -> None:
            try:
                report = runner.run(open_and_check(url))
            except StudioError as error:  # refused when added
                assert_specific(error)
                assert error.field_errors.get("url")
                return
            if report.error is not None:
                assert_specific(report.error)

        try:
            check()
        finally:
            runner.run(manager.__aexit__(None, None, None))
            runner.run(store.__aexit__(None, None, None))


# -- `studio-tui db add`: the headless entry point of the same checks ------------------------
def test_db_add_saves_or_says_why_without_a_traceback(tmp_path, monkeypatch) -> None:
    import contextlib
    import io

    from studio_tui import cli

    monkeypatch.setenv("STUDIO_TUI_HOME", str(tmp_path))
    monkeypatch.setenv("PG_META_CRYPTO_KEY", "S3cr-meta-key-of-16+")
    monkeypatch.delenv("STUDIO_TUI_KEY", raising=False)

    @fuzz_settings(ci=25)
    @given(st.text(max_size=12), urls(encode=True),
           st.sampled_from(["free", "pro", "enterprise", "", "gold", "PRO"]),
           st.lists(st.text(max_size=6), max_size=2),
           st.none() | st.sampled_from(["http://127.0.0.1:1", "ftp://x", "http://[", ""]))
    @example("cache", ("redis://:S3cr-pw@127.0.0.1:6379/0", "S3cr-pw"), "free", [], None)
    @example("pg", ("postgresql://u:S3cr@127.0.0.1/db", "S3cr"), "pro", ["a"], "http://[")
    def check(name: str, case: tuple[str, str], tier: str, tags: list[str],
              meta: str | None) -> None:
        url, secret = case
        argv = ["db", "add", name, url, "--tier", tier]
        for tag in tags:
            argv += ["--tag", tag]
        if meta is not None:
            argv += ["--pg-meta", meta]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.run(argv)
            except SystemExit as exit_:  # argparse: an argument it cannot take (e.g. "-x")
                code = exit_.code
        said = out.getvalue() + err.getvalue()
        assert "Traceback" not in said
        if secret:
            assert secret not in said and quote(secret, safe="") not in said
        if code == 0:
            assert "Added" in out.getvalue()
        else:
            assert code in (2, cli.EXIT_USAGE), (code, said)
            assert err.getvalue().strip(), "refused without a word"
        if "S3cr-meta-key" in said:
            raise AssertionError(f"the pg-meta key was shown: {said!r}")

    check()
