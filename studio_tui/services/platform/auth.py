"""Team-mode accounts: sign-up, invitations, sign-in, sessions, passwords and TOTP.

Passwords are hashed with scrypt (salted; its parameters stored with the hash) and compared in
constant time. A session token is 256 random bits that only the client keeps (a 0600 file); the
catalog stores its SHA-256. Sessions expire after ``idle`` without activity and ``absolute`` after
sign-in; activity slides the idle expiry, written at most once a minute and never awaited by the
caller. Expired sessions are deleted at sign-in and periodically.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from studio_tui.services.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    StudioError,
    ValidationError,
)
from studio_tui.services.platform.login_limits import LoginLimiter, iso, login_keys, seconds_of
from studio_tui.services.platform.models import (
    AuthSession,
    Invitation,
    Member,
    User,
    email_key,
    new_id,
)
from studio_tui.services.platform.rbac import Actor, Permission, Role

log = logging.getLogger(__name__)
Clock = Callable[[], float]  # seconds since the epoch

MIN_PASSWORD = 10
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
IDLE_SECONDS = 12 * 3600
ABSOLUTE_SECONDS = 7 * 24 * 3600
TOUCH_EVERY = 60.0
CLEANUP_EVERY = 3600.0
INVITATION_SECONDS = 7 * 24 * 3600
STALE_BUCKET_SECONDS = 24 * 3600
TOTP_CONTEXT = "totp:"


class TotpRequiredError(AuthenticationError):
    """The password was right; the account also wants its authenticator code."""

    code = "TOTP_REQUIRED"
    title = "Authenticator code needed"


# -- passwords ------------------------------------------------------------------------------
def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password.encode())


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64): the parameters travel with the hash, so they can be
    raised later without breaking the hashes already stored."""
    salt = os.urandom(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


# Compared against when the account does not exist, so timing does not reveal which emails do.
_DUMMY_HASH = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 43 + "="


def verify_password(password: str, stored: str | None) -> bool:
    try:
        scheme, n, r, p, salt, digest = (stored or _DUMMY_HASH).split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest)) and stored is not None


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"A password has at least {MIN_PASSWORD} characters.",
                              field_errors={"password": f"at least {MIN_PASSWORD} characters"})
    return password


def check_email(email: str) -> str:
    email = email.strip()
    local, at, domain = email.partition("@")
    if not (local and at and domain) or " " in email or len(email) > 254:
        raise ValidationError("That is not an email address.",
                              field_errors={"email": "name@example.com"})
    return email


# -- tokens ---------------------------------------------------------------------------------
def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenFile:
    """The client's session token: a 0600 file in the data directory, and nowhere else."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str | None:
        try:
            return self.path.read_text().strip() or None
        except FileNotFoundError:
            return None

    def write(self, token: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".new")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(token)
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)


# -- TOTP -----------------------------------------------------------------------------------
def _totp(secret: bytes):
    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    return TOTP(secret, 6, SHA1(), 30, enforce_key_length=False)


def totp_code(secret: bytes, at: float) -> str:
    return _totp(secret).generate(int(at)).decode()


def totp_matches(secret: bytes, code: str, at: float) -> bool:
    """The code of this 30 s step, or of the one before or after (clocks drift)."""
    from cryptography.hazmat.primitives.twofactor import InvalidToken

    code = code.strip().replace(" ", "")
    for step in (0, -30, 30):
        try:
            _totp(secret).verify(code.encode(), int(at) + step)
            return True
        except InvalidToken:
            continue
    return False


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session just made: its token (for the client's file only) and who it is."""

    token: str
    actor: Actor
    user: User


class Accounts:
    """Accounts and sessions over the catalog store. ``catalog``: for the permission check and
    the audit (every refusal and change recorded)."""

    def __init__(self, catalog, clock: Clock, origin_hosts: tuple[str, ...] = (),
                 limiter: LoginLimiter | None = None) -> None:
        self.catalog = catalog
        self.store = catalog.store
        self.vault = catalog.vault
        self.clock = clock
        self.origin_hosts = origin_hosts
        self.limiter = limiter or LoginLimiter(self.store, clock)
        self._touched: dict[str, float] = {}
        self._last_cleanup = 0.0
        self._tasks: set[asyncio.Task] = set()

    def _now(self) -> str:
        return iso(self.clock())

    # -- sign-up and invitations -----------------------------------------------------------
    async def needs_sign_up(self) -> bool:
        """A team catalog with no user yet: its first user signs up and owns a new organization."""
        return await self.store.count_users(include_deleted=True) == 0

    async def sign_up(self, email: str, password: str, display_name: str = "",
                      org_name: str = "Team") -> SignedIn:
        if not await self.needs_sign_up():
            raise PermissionDeniedError(
                "This catalog already has users: ask an owner or admin for an invitation.")
        # Of two instances signing up at the same moment, the store lets exactly one through.
        user = await self._new_user(email, password, display_name, first=True)
        org = await self.store.create_organization(org_name)
        await self.store.set_member(org.id, user.id, Role.OWNER)
        await self.store.create_project(org.id, "default")
        await self._audit(user, "sign up", "ok", org=org.name)
        return await self._open_session(user)

    async def _new_user(self, email: str, password: str, display_name: str, *,
                        first: bool = False) -> User:
        email = check_email(email)
        digest = await asyncio.to_thread(hash_password, check_password(password))
        create = self.store.create_first_user if first else self.store.create_user
        return await create(User(
            id=new_id(), email=email, display_name=display_name.strip() or email.split("@")[0],
            password_hash=digest, created_at=self._now(), password_changed_at=self._now()))

    async def invite(self, org_id: str, email: str, role: Role) -> str:
        """Invite ``email`` into the organization with ``role``. Returns the one-time token (its
        SHA-256 is all the catalog keeps): shown once, passed on by the inviter."""
        await self._require_members(org_id, "invite member", role)
        token = new_token()
        now = self.clock()
        await self.store.create_invitation(Invitation(
            token_sha256=token_sha256(token), org_id=org_id, email=check_email(email),
            role=role, invited_by=self.catalog.actor.id, created_at=iso(now),
            expires_at=iso(now + INVITATION_SECONDS)))
        await self.catalog.audit("invite member", "ok", org_id=org_id, target=email,
                                 detail=role.value)
        return token

    async def accept_invitation(self, token: str, email: str, password: str,
                                display_name: str = "") -> SignedIn:
        """Join with an invitation: a new account, or an existing one (its password checked)."""
        invitation = await self.store.find_invitation(token_sha256(token.strip()))
        if invitation is None:
            raise NotFoundError("That invitation token is not valid.",
                                field_errors={"token": "unknown"})
        if email_key(invitation.email) != email_key(email):
            raise PermissionDeniedError("That invitation is for another email address.",
                                        field_errors={"email": "not the invited address"})
        user = await self.store.find_user_by_email(email)
        if user is None:
            user = await self._new_user(email, password, display_name)
        elif not await asyncio.to_thread(verify_password, password, user.password_hash):
            raise AuthenticationError("The password is not right for that account.")
        await self.store.accept_invitation(invitation.token_sha256, user.id, now=self._now())
        await self._audit(user, "accept invitation", "ok", org_id=invitation.org_id,
                          detail=invitation.role.value)
        return await self._open_session(self._check_active(user))

    # -- members ---------------------------------------------------------------------------
    async def _require_members(self, org_id: str, action: str, role: Role | None = None) -> None:
        acting = await self.catalog.authorize(Permission.MANAGE_MEMBERS, org_id=org_id,
                                              target="the organization's members", action=action)
        if role is Role.OWNER and acting is not Role.OWNER:
            await self.catalog.audit(action, "denied", org_id=org_id, detail="owner role")
            raise PermissionDeniedError(
                f"{self.catalog.actor.name} has the {acting.label} role: only an owner may "
                "make someone an owner.")

    async def members(self, org_id: str) -> list[Member]:
        await self.catalog.authorize(Permission.READ_DATA, org_id=org_id,
                                     target="the organization's members", action="list members")
        return await self.store.list_members(org_id)

    async def set_role(self, org_id: str, user_id: str, role: Role) -> Member:
        members = {m.user_id: m for m in await self.store.list_members(org_id)}
        before = members.get(user_id)
        # Changing an owner is an owner's decision too.
        await self._require_members(org_id, "change role",
                                    Role.OWNER if Role.OWNER in (role, before and before.role)
                                    else role)
        member = await self.store.set_member(org_id, user_id, role)
        if before is not None:  # the store returns the bare membership: name who it is
            member = replace(before, role=member.role)
        await self.catalog.audit("change role", "ok", org_id=org_id,
                                 target=member.email or user_id, detail=role.value)
        return member

    async def remove_member(self, org_id: str, user_id: str) -> None:
        current = {m.user_id: m.role for m in await self.store.list_members(org_id)}
        await self._require_members(org_id, "remove member", current.get(user_id))
        await self.store.remove_member(org_id, user_id)
        if not await self.store.memberships(user_id):  # a member of nothing any more
            await self.store.delete_user_sessions(user_id)
        await self.catalog.audit("remove member", "ok", org_id=org_id, target=user_id)

    # -- sign-in, sessions, sign-out -------------------------------------------------------
    async def sign_in(self, email: str, password: str, totp: str = "") -> SignedIn:
        keys = login_keys(email, self.origin_hosts)
        await self._cleanup(force=True)
        try:
            await self.limiter.admit(keys)
        except StudioError as error:
            await self._audit(None, "sign in", "denied", target=email, detail=error.detail)
            raise
        user = await self.store.find_user_by_email(email)
        right = await asyncio.to_thread(verify_password, password,
                                        user.password_hash if user else None)
        if user is None or not right:
            locked = await self.limiter.failed(keys)
            await self._audit(user, "sign in", "failed", target=email,
                              detail="locked out" if locked else "wrong email or password")
            raise AuthenticationError("Wrong email or password."
                                      + (" Sign-in is now locked for a while." if locked else ""))
        try:
            self._check_active(user)
        except AuthenticationError as error:
            await self._audit(user, "sign in", "denied", detail=error.detail)
            raise
        if user.totp_secret:
            if not totp.strip():
                raise TotpRequiredError("Enter the code from your authenticator app.",
                                        field_errors={"totp": "6-digit code"})
            if not totp_matches(self._totp_secret(user), totp, self.clock()):
                await self.limiter.failed(keys)
                await self._audit(user, "sign in", "failed", target=email,
                                  detail="wrong authenticator code")
                raise AuthenticationError("That authenticator code is not right.",
                                          field_errors={"totp": "wrong code"})
        await self.limiter.succeeded(keys)
        await self._audit(user, "sign in", "ok")
        return await self._open_session(user)

    def _check_active(self, user: User) -> User:
        if user.deleted_at is not None:
            raise AuthenticationError("This account has been deleted.")
        if user.banned_at is not None:
            raise AuthenticationError("This account is suspended; ask an owner or admin.")
        return user

    async def _open_session(self, user: User) -> SignedIn:
        token = new_token()
        now = self.clock()
        await self.store.create_session(AuthSession(
            token_sha256=token_sha256(token), user_id=user.id, created_at=iso(now),
            expires_at=iso(now + min(IDLE_SECONDS, ABSOLUTE_SECONDS)), last_activity_at=iso(now),
            origin=self.catalog.origin))
        self._touched[token_sha256(token)] = now
        return SignedIn(token, await self.actor_of(user, token_sha256(token)), user)

    async def actor_of(self, user: User, session_id: str | None = None) -> Actor:
        memberships = await self.store.memberships(user.id)
        return Actor(user.id, user.display_name or user.email,
                     session_id=session_id).with_memberships(memberships)

    async def resume(self, token: str) -> SignedIn:
        """The session a saved token stands for, if it is still valid; AuthenticationError
        saying why not (expired, signed out elsewhere, account deleted or suspended)."""
        digest = token_sha256(token)
        session = await self.store.get_session(digest)
        now = self.clock()
        if session is None:
            raise AuthenticationError("The session has ended; sign in again.")
        if seconds_of(session.expires_at) <= now:
            await self.store.delete_session(digest)
            raise AuthenticationError("The session expired; sign in again.")
        user = await self.store.get_user(session.user_id)
        if not user.active:
            await self.store.delete_user_sessions(user.id)
            self._check_active(user)
        self.touch(token, force=True)
        return SignedIn(token, await self.actor_of(user, digest), user)

    def due(self, token: str) -> bool:
        """Whether activity on this session is to be written now (at most once a minute)."""
        return self.clock() - self._touched.get(token_sha256(token), 0.0) >= TOUCH_EVERY

    def touch(self, token: str, *, force: bool = False) -> bool:
        """Note activity: slides the idle expiry. At most once a minute, in a task the caller
        never waits for (the UI stays responsive on a slow shared catalog). True when written."""
        if not force and not self.due(token):
            return False
        digest = token_sha256(token)
        now = self.clock()
        self._touched[digest] = now
        self.background(self._touch(digest, now))
        return True

    def background(self, work) -> None:
        """Run ``work`` in a task nobody awaits, kept until done (``settle`` waits for it)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _touch(self, digest: str, now: float) -> None:
        try:
            session = await self.store.get_session(digest)
            if session is None:
                return
            absolute = seconds_of(session.created_at) + ABSOLUTE_SECONDS
            await self.store.touch_session(digest, iso(now), iso(min(now + IDLE_SECONDS,
                                                                      absolute)))
            await self._cleanup()
        except StudioError as error:  # activity is a hint: never fail the user's action
            log.warning("session activity not recorded: %s", error)

    async def _cleanup(self, *, force: bool = False) -> int:
        now = self.clock()
        if not force and now - self._last_cleanup < CLEANUP_EVERY:
            return 0
        self._last_cleanup = now
        removed = await self.store.delete_expired_sessions(iso(now))
        # Login buckets of origins long gone (a lockout still running is kept).
        await self.store.delete_stale_login_buckets(iso(now - STALE_BUCKET_SECONDS))
        if removed:
            log.info("removed %d expired sessions", removed)
        return removed

    async def settle(self) -> None:
        """Wait for pending activity writes (tests, and before closing the store)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def sign_out(self, token: str) -> None:
        session = await self.store.get_session(token_sha256(token))
        await self.store.delete_session(token_sha256(token))
        if session is not None:
            await self._audit(await self.store.get_user(session.user_id), "sign out", "ok")

    async def change_password(self, user_id: str, old: str, new: str) -> SignedIn:
        """Every other session of the account ends; a new one replaces the caller's."""
        user = await self.store.get_user(user_id)
        if not await asyncio.to_thread(verify_password, old, user.password_hash):
            await self._audit(user, "change password", "failed", detail="wrong password")
            raise AuthenticationError("The current password is not right.",
                                      field_errors={"old": "wrong password"})
        digest = await asyncio.to_thread(hash_password, check_password(new))
        user = await self.store.update_user(replace(user, password_hash=digest,
                                                    password_changed_at=self._now()))
        await self.store.delete_user_sessions(user.id)
        await self._audit(user, "change password", "ok")
        return await self._open_session(user)

    # -- TOTP ------------------------------------------------------------------------------
    def _totp_secret(self, user: User) -> bytes:
        return base64.b32decode(self.vault.decrypt(user.totp_secret or "",
                                                   TOTP_CONTEXT + user.id))

    def _pending_key(self, user_id: str) -> str:
        return f"totp-pending:{user_id}"

    async def start_totp(self, user: User) -> str:
        """A new secret, pending until ``confirm_totp``; returns the otpauth URI (shown once).
        The pending secret is kept sealed in the catalog, not in this process: a code can be
        confirmed after a restart, or from another instance, and a new start replaces it."""
        secret = os.urandom(20)
        sealed = self.vault.encrypt(base64.b32encode(secret).decode(),
                                    TOTP_CONTEXT + "pending:" + user.id)
        await self.store.set_meta(self._pending_key(user.id), sealed)
        return _totp(secret).get_provisioning_uri(user.email, "studio-tui")

    async def confirm_totp(self, user_id: str, code: str) -> User:
        sealed = await self.store.get_meta(self._pending_key(user_id))
        if not sealed:
            raise ValidationError("Start the authenticator set-up first.")
        secret = base64.b32decode(self.vault.decrypt(sealed, TOTP_CONTEXT + "pending:" + user_id))
        if not totp_matches(secret, code, self.clock()):
            raise ValidationError("That code does not match; check the app's clock.",
                                  field_errors={"totp": "wrong code"})
        user = await self.store.get_user(user_id)
        sealed = self.vault.encrypt(base64.b32encode(secret).decode(), TOTP_CONTEXT + user.id)
        user = await self.store.update_user(replace(user, totp_secret=sealed))
        await self.store.set_meta(self._pending_key(user_id), "")
        await self._audit(user, "enable two-factor", "ok")
        return user

    async def disable_totp(self, user_id: str, password: str, code: str) -> User:
        """Both factors: the password and a current code (a stolen session alone cannot)."""
        user = await self.store.get_user(user_id)
        if not user.totp_secret:
            raise ValidationError("Two-factor sign-in is not enabled for this account.")
        if not await asyncio.to_thread(verify_password, password, user.password_hash):
            await self._audit(user, "disable two-factor", "failed", detail="wrong password")
            raise AuthenticationError("The password is not right.",
                                      field_errors={"password": "wrong password"})
        if not totp_matches(self._totp_secret(user), code, self.clock()):
            await self._audit(user, "disable two-factor", "failed", detail="wrong code")
            raise AuthenticationError("That authenticator code is not right.",
                                      field_errors={"totp": "wrong code"})
        user = await self.store.update_user(replace(user, totp_secret=None))
        await self._audit(user, "disable two-factor", "ok")
        return user

    # -- accounts --------------------------------------------------------------------------
    async def ban(self, org_id: str, user_id: str) -> User:
        """Suspend an account: its sessions end now and sign-in is refused."""
        current = {m.user_id: m.role for m in await self.store.list_members(org_id)}
        if user_id not in current:
            raise NotFoundError("That account is not a member of this organization.")
        await self._require_members(org_id, "suspend account", current[user_id])
        user = await self.store.get_user(user_id)
        user = await self.store.update_user(replace(user, banned_at=self._now()))
        await self.store.delete_user_sessions(user_id)
        await self.catalog.audit("suspend account", "ok", org_id=org_id, target=user.email)
        return user

    async def unban(self, org_id: str, user_id: str) -> User:
        """Lift a suspension: the account may sign in again (its old sessions stay ended)."""
        current = {m.user_id: m.role for m in await self.store.list_members(org_id)}
        if user_id not in current:
            raise NotFoundError("That account is not a member of this organization.")
        await self._require_members(org_id, "lift suspension", current[user_id])
        user = await self.store.get_user(user_id)
        if user.banned_at is None:
            raise ValidationError(f"{user.email} is not suspended.")
        user = await self.store.update_user(replace(user, banned_at=None))
        await self.catalog.audit("lift suspension", "ok", org_id=org_id, target=user.email)
        return user

    async def _audit(self, user: User | None, action: str, outcome: str, *,
                     org_id: str | None = None, org: str = "", target: str = "",
                     detail: str = "") -> None:
        """Account events name the account itself, not whoever the catalog's actor is."""
        from studio_tui.services.platform.models import AuditRecord

        try:
            await self.store.append_audit(AuditRecord(
                action=action, outcome=outcome, user_id=user.id if user else "",
                user_name=(user.display_name or user.email) if user else "",
                org=org or (await self.catalog.org_name(org_id) if org_id else ""),
                target=target or (user.email if user else ""), origin=self.catalog.origin,
                detail=detail))
        except StudioError as error:
            log.warning("audit entry not written: %s", error)
