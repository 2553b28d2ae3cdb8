"""A statistical content screen trained on reviewers' labels, with scikit-learn.

Character n-grams (1 to 3, within word boundaries: Chinese needs no word segmenter) weighted by TF-IDF, and one
logistic regression per violation category (one-vs-rest), so a message can hold several categories. The
recipient's role is a feature (``third_party_disclosure`` depends on it). Text is NFKC-folded and lower-cased
first, as the lexicon screen does.

The model complements the lexicons and never overrides them (``fairdun.application.screening``). It is saved
with joblib, which is pickle: **load only model files you made or trust**.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from fairdun.application.screening import VIOLATIONS, LabelledMessage, Message

FORMAT = "fairdun-screen-model/1"
DEFAULT_THRESHOLD = 0.5


class ScreenModelError(Exception):
    """A model cannot be trained, saved or loaded; the message says why (and names the file)."""


def _features(message: Message) -> str:
    # The role as a token of its own: character n-grams of "[contact]" let the model learn role-dependence.
    return f"[{message.role.value}] " + unicodedata.normalize("NFKC", message.text).lower()


@dataclass
class SklearnScreenModel:
    """Implements :class:`fairdun.application.screening.ScreenModel`."""

    vectorizer: Any
    classifiers: dict[str, Any]
    threshold: float = DEFAULT_THRESHOLD
    trained_on: int = 0
    skipped: tuple[str, ...] = field(default=())
    """Categories the labels held no example of (or only examples of): the model never finds them."""

    def predict(self, messages: Sequence[Message]) -> list[frozenset[str]]:
        if not messages:
            return []
        matrix = self.vectorizer.transform([_features(m) for m in messages])
        found: list[set[str]] = [set() for _ in messages]
        for category, classifier in self.classifiers.items():
            for i, p in enumerate(classifier.predict_proba(matrix)[:, 1]):
                if p >= self.threshold:
                    found[i].add(category)
        return [frozenset(f) for f in found]

    def save(self, path: Path) -> None:
        payload = {
            "format": FORMAT,
            "sklearn": sklearn.__version__,
            "vectorizer": self.vectorizer,
            "classifiers": self.classifiers,
            "threshold": self.threshold,
            "trained_on": self.trained_on,
            "skipped": list(self.skipped),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            joblib.dump(payload, path)
        except OSError as exc:
            raise ScreenModelError(f"{path}: cannot write: {exc.strerror or exc}") from None


def train(examples: Sequence[LabelledMessage], threshold: float = DEFAULT_THRESHOLD) -> SklearnScreenModel:
    """Fit a model on labelled messages. Needs lawful messages and violations both; a category with no
    example is skipped (named in ``skipped``)."""
    if not 0.0 < threshold < 1.0:
        raise ScreenModelError(f"threshold: expected a probability between 0 and 1, got {threshold}")
    if not any(e.labels for e in examples) or all(e.labels for e in examples):
        raise ScreenModelError(
            f"need both lawful messages and violations to train on; got {len(examples)} labelled messages, "
            f"{sum(bool(e.labels) for e in examples)} of them violations"
        )
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    matrix = vectorizer.fit_transform([_features(e.message) for e in examples])
    classifiers: dict[str, Any] = {}
    skipped = []
    for category in VIOLATIONS:
        target = [category in e.labels for e in examples]
        if all(target) or not any(target):
            skipped.append(category)
            continue
        # Few positives per category: balance the classes, and regularise lightly so short phrases count.
        classifier = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
        classifier.fit(matrix, target)
        classifiers[category] = classifier
    return SklearnScreenModel(vectorizer, classifiers, threshold, len(examples), tuple(skipped))


def load_model(path: Path) -> SklearnScreenModel:
    """A model saved by :meth:`SklearnScreenModel.save`. Pickle runs code: load only files you trust."""
    if not path.is_file():
        raise ScreenModelError(f"{path}: no such model file (make one with `fairdun screen train`)")
    try:
        payload = joblib.load(path)
    except Exception as exc:  # a truncated or foreign file can fail in many ways; all mean the same here
        raise ScreenModelError(f"{path}: not a fairdun screen model ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ScreenModelError(f"{path}: not a fairdun screen model (expected format {FORMAT})")
    classifiers = payload.get("classifiers")
    if not isinstance(classifiers, dict) or not set(classifiers) <= set(VIOLATIONS):
        raise ScreenModelError(f"{path}: classifiers: expected one per violation category")
    return SklearnScreenModel(
        payload["vectorizer"],
        classifiers,
        float(payload.get("threshold", DEFAULT_THRESHOLD)),
        int(payload.get("trained_on", 0)),
        tuple(payload.get("skipped", ())),
    )
