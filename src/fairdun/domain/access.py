"""Who may do what: the roles of fairdun's users, the permissions each holds, and the user a decision is about.

Pure data and functions. The application layer asks :func:`allowed` before it reads or changes anything on a
user's behalf; the adapters store users, trainings and agencies (migration 0009) and log every read of personal
data (migration 0010). docs/access.md explains the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class UserRole(StrEnum):
    """A user's role. One role per account: someone with two jobs has two accounts, so the log says which."""

    ADMIN = "admin"
    """Runs the system: users, keys, configuration. Sees no borrower's personal data by virtue of the role."""
    COMPLIANCE = "compliance"
    """The compliance officer / DPO: rule packs, templates, consents, data-subject requests, incidents."""
    SUPERVISOR = "supervisor"
    """Leads collectors: every case of the lender, assignment and placement; masked unless they unmask."""
    COLLECTOR = "collector"
    """An in-house collector: only the cases assigned to them."""
    AGENCY_COLLECTOR = "agency_collector"
    """A collector at an outside agency: only cases placed with that agency, only the fields the placement shares."""
    AUDITOR = "auditor"
    """An internal or external auditor, or a regulator: reads logs and records, masked; changes nothing."""
    BORROWER = "borrower"
    """A data subject: their own data, through the portal."""


class Permission(StrEnum):
    VIEW_CASE = "view_case"
    """See a case and its parties, masked."""
    UNMASK = "unmask"
    """See a personal field in clear: needs a stated reason and is audited, every time."""
    CONTACT = "contact"
    """Dial, send or visit (always through the gate)."""
    RECORD_OUTCOME = "record_outcome"
    """Record a call's outcome, a promise, a refusal heard on the phone."""
    ASSIGN = "assign"
    """Assign cases to collectors and place them with agencies."""
    MANAGE_CONSENT = "manage_consent"
    """Record consents, withdrawals and privacy notices."""
    MANAGE_TEMPLATES = "manage_templates"
    MANAGE_PACKS = "manage_packs"
    MANAGE_USERS = "manage_users"
    MANAGE_AGENCIES = "manage_agencies"
    SUBJECT_REQUESTS = "subject_requests"
    """Answer data-subject requests: export, correction, erasure (PIPL Arts. 44-47)."""
    READ_AUDIT = "read_audit"
    """Read the audit log, the access log and the compliance audit's findings."""
    EXPORT = "export"
    """Export records in bulk (audit logs, reports)."""
    INCIDENT = "incident"
    """Run an incident query: whose data an account read (PIPL Art. 57)."""
    HANDLE_COMPLAINTS = "handle_complaints"
    """Take in, investigate and resolve complaints (their sealed words still need UNMASK)."""
    OWN_DATA = "own_data"
    """A borrower's own data, export and correction requests, refusals and complaints."""


GRANTS: dict[UserRole, frozenset[Permission]] = {
    UserRole.ADMIN: frozenset({Permission.MANAGE_USERS, Permission.MANAGE_AGENCIES, Permission.READ_AUDIT}),
    UserRole.COMPLIANCE: frozenset(
        {
            Permission.VIEW_CASE,
            Permission.UNMASK,
            Permission.MANAGE_CONSENT,
            Permission.MANAGE_TEMPLATES,
            Permission.MANAGE_PACKS,
            Permission.MANAGE_AGENCIES,
            Permission.SUBJECT_REQUESTS,
            Permission.READ_AUDIT,
            Permission.EXPORT,
            Permission.INCIDENT,
            Permission.HANDLE_COMPLAINTS,
        }
    ),
    UserRole.SUPERVISOR: frozenset(
        {
            Permission.VIEW_CASE,
            Permission.UNMASK,
            Permission.ASSIGN,
            Permission.RECORD_OUTCOME,
            Permission.EXPORT,
            Permission.HANDLE_COMPLAINTS,
        }
    ),
    UserRole.COLLECTOR: frozenset(
        {Permission.VIEW_CASE, Permission.UNMASK, Permission.CONTACT, Permission.RECORD_OUTCOME}
    ),
    UserRole.AGENCY_COLLECTOR: frozenset(
        {Permission.VIEW_CASE, Permission.UNMASK, Permission.CONTACT, Permission.RECORD_OUTCOME}
    ),
    UserRole.AUDITOR: frozenset({Permission.VIEW_CASE, Permission.READ_AUDIT, Permission.EXPORT}),
    UserRole.BORROWER: frozenset({Permission.OWN_DATA}),
}
"""Which role holds which permission. A permission not listed is refused. Collectors' VIEW_CASE, UNMASK and
CONTACT hold only for the cases they may see (:func:`sees_case`)."""


@dataclass(frozen=True, slots=True)
class User:
    """An account: ``id`` (what the logs name), its role, the agency it works for (agency collectors only; None
    for the lender's own staff), whether it is active, and for a borrower account the party it is."""

    id: str
    role: UserRole
    agency: str | None = None
    active: bool = True
    party: str | None = None


class AccessDeniedError(Exception):
    """A user asked for something their role or their cases do not allow. The message names the user, the
    permission and why."""


def allowed(user: User, permission: Permission) -> bool:
    """Whether ``user``'s role holds ``permission`` at all (an inactive account holds nothing)."""
    return user.active and permission in GRANTS[user.role]


def require(user: User, permission: Permission) -> None:
    """Raise :class:`AccessDeniedError` unless ``user`` holds ``permission``."""
    if not user.active:
        raise AccessDeniedError(f"user {user.id!r} is not active")
    if permission not in GRANTS[user.role]:
        raise AccessDeniedError(f"user {user.id!r} ({user.role}) may not {permission.value.replace('_', ' ')}")


def sees_case(user: User, *, assignee: str | None, agency: str | None, borrower: str | None = None) -> bool:
    """Whether ``user`` may see a case assigned to ``assignee`` and placed with ``agency`` (None: not placed),
    about ``borrower``: collectors their assigned cases only (and not once the case is placed elsewhere), agency
    collectors the cases placed with their agency, a borrower their own, the lender's other staff every case."""
    if not user.active:
        return False
    match user.role:
        case UserRole.COLLECTOR:
            return assignee == user.id and agency is None
        case UserRole.AGENCY_COLLECTOR:
            return user.agency is not None and agency == user.agency
        case UserRole.BORROWER:
            return user.party is not None and borrower == user.party
        case UserRole.ADMIN:
            return False
        case _:
            return True


@dataclass(frozen=True, slots=True)
class Credential:
    """An account's password as stored: a salted hash in the form ``scrypt$n$r$p$salt$hash`` (never the password),
    when and by whom it was set, whether it is a one-time password to be changed at the first login, and the
    failed logins since the last good one with the instant the account stays locked until."""

    user: str
    password_hash: str
    set_at: datetime
    set_by: str
    must_change: bool
    failed_attempts: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class LoginSession:
    """A session given at a login: the SHA-256 of its token (the token is only ever with the user), whose it is,
    when it was issued and expires, and when it was ended (logout, a password change, deactivation)."""

    token_hash: str
    user: str
    issued_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def live(self, at: datetime) -> bool:
        """Whether the session may still be used at ``at``."""
        return self.ended_at is None and self.issued_at <= at < self.expires_at
