"""Screening message content: the lexicon screen, an optional model trained on reviewers' labels, and how well
both do on a labelled set.

The lexicon screener (:class:`fairdun.policy.screen.Screener`) is the authority: a model may *add* categories the
lexicons missed (its findings carry ``origin="model"`` and span the whole message), never remove or override a
lexicon finding. The gate uses the lexicon screener alone, so it stays fast and needs no model file.

Wire format (``fairdun screen``): a message is ``{"text": "...", "recipient_role": "debtor"}``; a labelled message
adds ``"labels": [...]`` (violation categories; empty for a lawful message) and optionally ``"reviewer"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from fairdun.domain.contact import Role
from fairdun.policy.screen import CATEGORIES, Finding, Screener

VIOLATIONS: tuple[str, ...] = tuple(c for c in CATEGORIES if c != "legal_action")
"""The categories that make a message a violation whoever receives it. ``legal_action`` is not one: a lender
may sue; the ``us`` pack's ``US-TIME-BARRED`` rule denies it only on a time-barred debt."""

ROLES: tuple[str, ...] = tuple(r.value for r in Role)


class ScreenInputError(ValueError):
    """A message or a label is invalid; ``field`` names what (``recipient_role``, ``labels[1]``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    role: Role


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    """A message with a reviewer's verdict: the violation categories it holds (none: lawful)."""

    text: str
    role: Role
    labels: frozenset[str]
    reviewer: str | None = None

    @property
    def message(self) -> Message:
        return Message(self.text, self.role)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "recipient_role": self.role.value,
            "labels": [c for c in VIOLATIONS if c in self.labels],
        }
        if self.reviewer is not None:
            out["reviewer"] = self.reviewer
        return out


def _object(document: object) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise ScreenInputError("message", f"expected a JSON object, got {type(document).__name__}")
    return document


def parse_message(document: object) -> Message:
    """A message from its decoded JSON form; raises :class:`ScreenInputError` naming the field."""
    doc = _object(document)
    unknown = sorted(set(doc) - {"text", "recipient_role", "labels", "reviewer", "labelled_at"})
    if unknown:
        raise ScreenInputError(unknown[0], "unknown field; expected text, recipient_role (and labels, reviewer)")
    text = doc.get("text")
    if not isinstance(text, str):
        problem = "missing" if text is None else f"expected a string, got {type(text).__name__}"
        raise ScreenInputError("text", problem)
    role = doc.get("recipient_role")
    if role is None:
        raise ScreenInputError("recipient_role", f"missing; expected one of {', '.join(ROLES)}")
    if role not in ROLES:
        raise ScreenInputError("recipient_role", f"expected one of {', '.join(ROLES)}, got {role!r}")
    return Message(text, Role(role))


def parse_labelled(document: object) -> LabelledMessage:
    """A reviewer-labelled message; ``labels`` is required (``[]`` or ``["ok"]`` for a lawful message)."""
    message = parse_message(document)
    doc = _object(document)
    labels = doc.get("labels")
    if not isinstance(labels, list):
        problem = "missing" if labels is None else f"expected a list, got {type(labels).__name__}"
        raise ScreenInputError("labels", f"{problem} (violation categories; [] for a lawful message)")
    if labels == ["ok"]:  # a reviewer's "this is lawful", the same as []
        labels = []
    for i, label in enumerate(labels):
        if label not in VIOLATIONS:
            expected = ", ".join(VIOLATIONS) + (' (or just ["ok"])' if label == "ok" else ', or ["ok"] alone')
            raise ScreenInputError(f"labels[{i}]", f"expected one of {expected}, got {label!r}")
    reviewer = doc.get("reviewer")
    if reviewer is not None and not isinstance(reviewer, str):
        raise ScreenInputError("reviewer", f"expected a string, got {type(reviewer).__name__}")
    return LabelledMessage(message.text, message.role, frozenset(labels), reviewer)


class LabelStore(Protocol):
    """Where reviewers' labels are kept (the JSON-lines adapter implements it)."""

    def add(self, items: Sequence[LabelledMessage], at: datetime) -> int:
        """Store the labels, stamped with ``at``; returns how many were stored."""
        ...

    def all(self) -> list[LabelledMessage]:
        """Every label stored so far."""
        ...


class ScreenModel(Protocol):
    """A statistical screen trained on reviewers' labels (the scikit-learn adapter implements it)."""

    def predict(self, messages: Sequence[Message]) -> list[frozenset[str]]:
        """The violation categories the model finds in each message."""
        ...


@dataclass(frozen=True, slots=True)
class ScreenResult:
    text: str
    findings: tuple[Finding, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        """The violation categories found (by lexicon or model), in the canonical order."""
        found = {f.category for f in self.findings}
        return tuple(c for c in VIOLATIONS if c in found)

    @property
    def verdict(self) -> str:
        return "violation" if self.categories else "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "categories": list(self.categories),
            "evidence": [
                {"category": f.category, "start": f.start, "end": f.end, "text": f.text, "origin": f.origin}
                for f in self.findings
                if f.category in VIOLATIONS
            ],
        }


@dataclass
class ScreeningService:
    """Screens messages: the lexicon screener, plus a model's extra categories when one is given."""

    screener: Screener
    model: ScreenModel | None = None

    def screen(self, text: str, role: Role) -> ScreenResult:
        return self.screen_all([Message(text, role)])[0]

    def screen_all(self, messages: Sequence[Message]) -> list[ScreenResult]:
        lexicon = [self.screener.screen(m.text, m.role) for m in messages]
        if self.model is None:
            return [ScreenResult(m.text, f) for m, f in zip(messages, lexicon, strict=True)]
        predicted = self.model.predict(messages)
        results = []
        for message, found, extra in zip(messages, lexicon, predicted, strict=True):
            have = {f.category for f in found}
            added = tuple(
                Finding(c, 0, len(message.text), message.text, origin="model")
                for c in VIOLATIONS
                if c in extra and c not in have
            )
            results.append(ScreenResult(message.text, found + added))
        return results


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """Counts for one category over a labelled set: a message is positive when reviewers gave it the label."""

    category: str
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int

    @property
    def precision(self) -> float | None:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float | None:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def false_positive_rate(self) -> float | None:
        """Of the messages without this label, the share the screen gave it."""
        return _ratio(self.false_positives, self.false_positives + self.true_negatives)


@dataclass(frozen=True, slots=True)
class Miss:
    """A message the screen got wrong: its labels and what the screen found."""

    text: str
    role: Role
    labels: frozenset[str]
    found: tuple[str, ...]


@dataclass(frozen=True)
class Evaluation:
    """How the screen did on a labelled set.

    * **recall**: of the messages reviewers marked as violations, the share the screen flagged (any category);
    * **false-positive rate**: of the lawful messages, the share the screen flagged;
    * **right category**: of the violations, the share where the screen found *every* category reviewers gave.
    """

    messages: int
    violations: int
    lawful: int
    flagged_violations: int
    flagged_lawful: int
    right_category: int
    per_category: tuple[CategoryScore, ...]
    misses: tuple[Miss, ...] = field(default=(), repr=False)

    @property
    def recall(self) -> float | None:
        return _ratio(self.flagged_violations, self.violations)

    @property
    def false_positive_rate(self) -> float | None:
        return _ratio(self.flagged_lawful, self.lawful)

    @property
    def category_accuracy(self) -> float | None:
        return _ratio(self.right_category, self.violations)

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "violations": self.violations,
            "lawful": self.lawful,
            "recall": self.recall,
            "false_positive_rate": self.false_positive_rate,
            "category_accuracy": self.category_accuracy,
            "categories": {
                s.category: {
                    "precision": s.precision,
                    "recall": s.recall,
                    "false_positive_rate": s.false_positive_rate,
                    "true_positives": s.true_positives,
                    "false_positives": s.false_positives,
                    "false_negatives": s.false_negatives,
                    "true_negatives": s.true_negatives,
                }
                for s in self.per_category
            },
        }


def evaluate(service: ScreeningService, labelled: Iterable[LabelledMessage]) -> Evaluation:
    """Screen every labelled message and score the screen against the reviewers' labels."""
    items = list(labelled)
    return score(items, service.screen_all([i.message for i in items]))


def score(items: Sequence[LabelledMessage], results: Sequence[ScreenResult]) -> Evaluation:
    """Score screen results against the reviewers' labels of the same messages (in the same order)."""
    counts = {c: [0, 0, 0, 0] for c in VIOLATIONS}  # tp, fp, fn, tn
    violations = lawful = flagged_violations = flagged_lawful = right = 0
    misses = []
    for item, result in zip(items, results, strict=True):
        found = set(result.categories)
        for c in VIOLATIONS:
            counts[c][(0 if c in found else 2) if c in item.labels else (1 if c in found else 3)] += 1
        if item.labels:
            violations += 1
            flagged_violations += bool(found)
            right += item.labels <= found
        else:
            lawful += 1
            flagged_lawful += bool(found)
        if found != item.labels:
            misses.append(Miss(item.text, item.role, item.labels, result.categories))
    return Evaluation(
        messages=len(items),
        violations=violations,
        lawful=lawful,
        flagged_violations=flagged_violations,
        flagged_lawful=flagged_lawful,
        right_category=right,
        per_category=tuple(CategoryScore(c, *counts[c]) for c in VIOLATIONS),
        misses=tuple(misses),
    )


def cross_validate(
    items: Sequence[LabelledMessage],
    fit: Callable[[Sequence[LabelledMessage]], ScreenModel],
    screener: Screener,
    folds: int = 5,
) -> tuple[Evaluation, Evaluation]:
    """How well a model fitted by ``fit`` does on labels it did not see: ``folds``-fold cross-validation (message
    ``i`` is in fold ``i % folds``; shuffle beforehand if the order means something). Returns the scores of the
    lexicons with the model, and of the model alone."""
    if not 2 <= folds <= len(items):
        raise ValueError(f"folds: expected 2 to {len(items)} (the number of labelled messages), got {folds}")
    with_lexicons: list[ScreenResult] = [ScreenResult("", ())] * len(items)
    alone: list[ScreenResult] = [ScreenResult("", ())] * len(items)
    nothing = Screener([])
    for k in range(folds):
        held = [i for i in range(len(items)) if i % folds == k]
        model = fit([m for i, m in enumerate(items) if i % folds != k])
        messages = [items[i].message for i in held]
        for i, a, b in zip(
            held,
            ScreeningService(screener, model).screen_all(messages),
            ScreeningService(nothing, model).screen_all(messages),
            strict=True,
        ):
            with_lexicons[i], alone[i] = a, b
    return score(items, with_lexicons), score(items, alone)
