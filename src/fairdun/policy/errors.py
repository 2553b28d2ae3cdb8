"""The policy layer's errors. Each names exactly what is wrong, so the edge can print one clear line."""

from __future__ import annotations


class PolicyError(Exception):
    """Base of every error the policy layer raises on bad input."""


class FieldError(PolicyError):
    """A value at ``field`` (a dotted path such as ``checks[0].windows[1].start``) is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem

    def within(self, prefix: str) -> FieldError:
        """The same error, with its path under ``prefix``."""
        joined = f"{prefix}.{self.field}" if self.field and not self.field.startswith("[") else prefix + self.field
        return FieldError(joined if self.field else prefix, self.problem)


class PackError(PolicyError):
    """A rule pack is invalid. The message names the file, the rule (when there is one) and the field."""

    def __init__(self, source: str, problem: str, *, rule: str | None = None, field: str | None = None) -> None:
        where = [source]
        if rule:
            where.append(f"rule {rule}")
        if field:
            where.append(field)
        super().__init__(": ".join([*where, problem]))
        self.source = source
        self.rule = rule
        self.field = field
        self.problem = problem


class RequestError(PolicyError):
    """A gate request is invalid; ``field`` is its dotted path (``attempt.recipient.tz``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
