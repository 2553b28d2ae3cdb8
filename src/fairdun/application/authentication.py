"""Logins: passwords, sessions, lock-outs, and their entries in the tamper-evident audit log.

Who acts is proved here, once, at the edge; what they may do is decided by their role
(``fairdun.domain.access``). An account can log in once it has a password: every account gets a one-time password
when it is made (:func:`reset_password`, also what an admin does for someone who forgot theirs), which must be
changed at the first login before the session can do anything else. Passwords are kept as salted scrypt hashes
(RFC 7914; n=2^14, r=8, p=1, a 16-byte salt), compared in constant time; a session is a random 256-bit token
that is given to the user once and kept here only as its SHA-256. Five wrong passwords in a row lock the account
for 15 minutes. Every login, failed login, lock, logout, password change and reset is an audit entry (actions
``auth.*``), written in the same transaction as the change it records; a failed login's entry says why, while
the caller is told only "wrong user id or password" so the answer does not reveal which accounts exist.

The functions take an entered unit of work and never commit: the caller does (a failed login too, so that its
entry and the failure count are kept). docs/access.md explains the model.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fairdun.application.access_control import AccessControlError, acting, add_user
from fairdun.application.ports import UnitOfWork
from fairdun.domain.access import Credential, LoginSession, Permission, User

LOGIN, LOGIN_FAILED, LOCKED, LOGOUT = "auth.login", "auth.login_failed", "auth.locked", "auth.logout"
PASSWORD_CHANGED, PASSWORD_RESET = "auth.password_changed", "auth.password_reset"
ANONYMOUS = "anonymous"
"""The actor of a failed login's entry: nobody was proved to be anyone."""

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
SESSION_HOURS, MAX_SESSION_HOURS = 8, 12
MIN_LENGTH, MAX_LENGTH = 12, 256
_N, _R, _P, _SALT, _LENGTH = 2**14, 8, 1, 16, 32
_DUMMY = f"scrypt${_N}${_R}${_P}${'A' * 22}${'A' * 43}"
"""A hash no password matches, checked for an unknown account so that answering takes as long either way."""


class AuthenticationError(AccessControlError):
    """Not logged in, or a session that may not be used; the message says what to do."""


class PasswordPolicyError(AccessControlError):
    """A new password that is too weak; the message says why."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``password`` as ``scrypt$n$r$p$salt$hash`` (URL-safe base64 without padding)."""
    salt = secrets.token_bytes(_SALT) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_LENGTH)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        found = hashlib.scrypt(
            password.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except ValueError:
        return False
    return hmac.compare_digest(found, expected)


def token_hash(token: str) -> str:
    """What is kept of a session token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password(user_id: str, password: str) -> None:
    """Raises :class:`PasswordPolicyError` unless ``password`` is 12 to 256 characters, not the account's id nor
    containing it, and not made of fewer than six different characters (NIST SP 800-63B §5.1.1: length over
    composition rules)."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"password: at least {MIN_LENGTH} characters, got {len(password)}")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"password: at most {MAX_LENGTH} characters")
    if user_id.casefold() in password.casefold():
        raise PasswordPolicyError("password: must not contain the user id")
    if len(set(password)) < 6:
        raise PasswordPolicyError("password: too repetitive (fewer than 6 different characters)")
    if password != password.strip():
        raise PasswordPolicyError("password: must not begin or end with white space")


def add_account(uow: UnitOfWork, user: User, *, by: str | None, at: datetime) -> str:
    """Adds the account (:func:`~fairdun.application.access_control.add_user`: ``by`` needs ``MANAGE_USERS``, or
    is None for the very first admin) with a one-time password, returned: the only time it is seen."""
    actor = add_user(uow, user, by=by, at=at)
    return _one_time(uow, user.id, actor, at)


def reset_password(uow: UnitOfWork, user_id: str, *, by: str, at: datetime) -> str:
    """Gives ``user_id`` a new one-time password, returned (the only time it is seen), to be changed at the first
    login; ends their sessions and clears a lock. ``by`` needs ``MANAGE_USERS``."""
    actor = acting(uow, by, Permission.MANAGE_USERS).id
    if uow.access.user(user_id) is None:
        raise AccessControlError(f"user {user_id!r}: no such user")
    return _one_time(uow, user_id, actor, at)


def _one_time(uow: UnitOfWork, user_id: str, actor: str, at: datetime) -> str:
    one_time = secrets.token_urlsafe(12)
    uow.access.set_credential(Credential(user_id, hash_password(one_time), at, actor, True))
    ended = uow.access.end_sessions(user_id, at=at)
    uow.audit.append(actor, PASSWORD_RESET, f"user:{user_id}", {"sessions_ended": ended}, at=at)
    return one_time


def change_password(
    uow: UnitOfWork, user_id: str, current: str, new: str, *, at: datetime, keep: str | None = None
) -> None:
    """``user_id`` changes their own password, proving the current one (a wrong one counts as a failed login).
    Ends their other sessions; the one whose token hash is ``keep`` goes on."""
    credential = _credential(uow, user_id)
    if credential.locked_until is not None and at < credential.locked_until:
        raise AuthenticationError(f"user {user_id!r} is locked until {credential.locked_until.isoformat()}")
    if not verify_password(current, credential.password_hash):
        _failed(uow, user_id, credential, "wrong current password", at)
        raise AuthenticationError("current password: wrong")
    check_password(user_id, new)
    if new == current:
        raise PasswordPolicyError("password: the new password must differ from the current one")
    uow.access.set_credential(Credential(user_id, hash_password(new), at, user_id, False))
    ended = uow.access.end_sessions(user_id, at=at, keep=keep)
    uow.audit.append(user_id, PASSWORD_CHANGED, f"user:{user_id}", {"sessions_ended": ended}, at=at)


def _credential(uow: UnitOfWork, user_id: str) -> Credential:
    credential = uow.access.credential(user_id)
    if credential is None:
        raise AuthenticationError(f"user {user_id!r} has no password: an admin gives one with `fairdun user reset`")
    return credential


def _failed(uow: UnitOfWork, user_id: str, credential: Credential, reason: str, at: datetime) -> None:
    """Counts a wrong password; the fifth in a row locks the account for :data:`LOCK_FOR` (and says so)."""
    failures = credential.failed_attempts + 1
    locked_until = at + LOCK_FOR if failures >= MAX_FAILURES else None
    uow.access.set_login_failures(user_id, 0 if locked_until else failures, locked_until)
    uow.audit.append(ANONYMOUS, LOGIN_FAILED, f"user:{user_id}", {"reason": reason, "failures": failures}, at=at)
    if locked_until is not None:
        detail = {"until": locked_until.isoformat(), "failures": failures}
        uow.audit.append(ANONYMOUS, LOCKED, f"user:{user_id}", detail, at=at)


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What a login attempt gave: the token (only on success, and only here), the session, whether the password
    must be changed before anything else, or the reason it failed (kept in the audit log, not told the caller)."""

    user: str
    token: str | None
    session: LoginSession | None
    must_change: bool = False
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.token is not None


def login(uow: UnitOfWork, user_id: str, password: str, *, at: datetime, hours: int = SESSION_HOURS) -> LoginResult:
    """Checks ``password`` for ``user_id`` and, if it is right, opens a session of ``hours`` (1 to 12). A failure
    is returned, not raised, so the caller commits its audit entry and failure count before saying so."""
    if not 1 <= hours <= MAX_SESSION_HOURS:
        raise AccessControlError(f"hours: 1 to {MAX_SESSION_HOURS}, got {hours}")
    user = uow.access.user(user_id)
    credential = uow.access.credential(user_id) if user is not None else None
    reason: str | None = None
    if credential is None:
        verify_password(password, _DUMMY)  # as long as a real check
        reason = "no such user" if user is None else "no password set"
    elif credential.locked_until is not None and at < credential.locked_until:
        reason = f"locked until {credential.locked_until.isoformat()}"
    elif not verify_password(password, credential.password_hash):
        _failed(uow, user_id, credential, "wrong password", at)
        return LoginResult(user_id, None, None, failure="wrong password")
    elif user is not None and not user.active:
        reason = "account not active"
    if reason is not None:
        uow.audit.append(ANONYMOUS, LOGIN_FAILED, f"user:{user_id}", {"reason": reason}, at=at)
        return LoginResult(user_id, None, None, failure=reason)
    assert credential is not None
    if credential.failed_attempts or credential.locked_until is not None:
        uow.access.set_login_failures(user_id, 0, None)
    token = secrets.token_urlsafe(32)
    session = LoginSession(token_hash(token), user_id, at, at + timedelta(hours=hours))
    uow.access.add_session(session)
    detail = {"session": session.token_hash[:16], "expires_at": session.expires_at.isoformat()}
    uow.audit.append(user_id, LOGIN, f"user:{user_id}", {**detail, "must_change": credential.must_change}, at=at)
    return LoginResult(user_id, token, session, must_change=credential.must_change)


@dataclass(frozen=True, slots=True)
class Signed:
    """Who a live session proves someone is: the account, the session, and whether the account's password must
    be changed before the session may do anything else."""

    user: User
    session: LoginSession
    must_change: bool


def authenticate(uow: UnitOfWork, token: str, *, at: datetime) -> Signed:
    """The account a session token proves, if the session is live and the account active; otherwise
    :class:`AuthenticationError` saying what to do."""
    session = uow.access.session(token_hash(token))
    if session is None:
        raise AuthenticationError("not logged in: the session is not known to this database (fairdun login ID)")
    if session.ended_at is not None:
        raise AuthenticationError(f"not logged in: the session was ended at {session.ended_at.isoformat()}")
    if not session.live(at):
        raise AuthenticationError(f"not logged in: the session expired at {session.expires_at.isoformat()}")
    user = uow.access.user(session.user)
    if user is None or not user.active:
        raise AuthenticationError(f"user {session.user!r} is not active")
    credential = uow.access.credential(user.id)
    return Signed(user, session, credential is None or credential.must_change)


def logout(uow: UnitOfWork, token: str, *, at: datetime) -> str:
    """Ends the session of ``token``; the user it was for."""
    session = uow.access.session(token_hash(token))
    if session is None or not session.live(at):
        raise AuthenticationError("not logged in: no live session to end")
    uow.access.end_sessions(session.user, at=at, only=session.token_hash)
    uow.audit.append(session.user, LOGOUT, f"user:{session.user}", {"session": session.token_hash[:16]}, at=at)
    return session.user
