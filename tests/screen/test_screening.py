"""The screening service: lexicon findings first, a model's findings only added, and the scores of evaluate()."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from fairdun.application.screening import (
    LabelledMessage,
    Message,
    ScreeningService,
    ScreenInputError,
    cross_validate,
    evaluate,
    parse_labelled,
    parse_message,
)
from fairdun.config.packs import load_screener
from fairdun.domain.contact import Role

SCREENER = load_screener()


class FakeScreenModel:
    """Answers from a table; records what it was asked."""

    def __init__(self, answers: dict[str, frozenset[str]]) -> None:
        self.answers = answers
        self.asked: list[Message] = []

    def predict(self, messages: Sequence[Message]) -> list[frozenset[str]]:
        self.asked.extend(messages)
        return [self.answers.get(m.text, frozenset()) for m in messages]


def test_a_model_that_sees_nothing_never_removes_a_lexicon_finding() -> None:
    service = ScreeningService(SCREENER, FakeScreenModel({}))
    result = service.screen("你就是个老赖", Role.DEBTOR)
    assert result.verdict == "violation"
    assert [(f.category, f.origin) for f in result.findings] == [("insult", "lexicon")]


def test_a_model_adds_only_categories_the_lexicons_did_not_find_and_marks_them() -> None:
    text = "你就是个老赖，我们很快会让大家认识你。"
    model = FakeScreenModel({text: frozenset({"insult", "exposure_threat"})})
    result = ScreeningService(SCREENER, model).screen(text, Role.DEBTOR)
    assert result.categories == ("insult", "exposure_threat")
    origins = {(f.category, f.origin) for f in result.findings}
    assert origins == {("insult", "lexicon"), ("exposure_threat", "model")}
    [added] = [f for f in result.findings if f.origin == "model"]
    assert (added.start, added.end, added.text) == (0, len(text), text)
    assert model.asked == [Message(text, Role.DEBTOR)]


def test_legal_action_alone_is_not_a_violation() -> None:
    result = ScreeningService(SCREENER).screen("We will take legal action.", Role.DEBTOR)
    assert result.to_json() == {"verdict": "ok", "categories": [], "evidence": []}


def test_evaluate_counts_recall_false_positives_and_the_right_category() -> None:
    items = [
        LabelledMessage("你就是个老赖", Role.DEBTOR, frozenset({"insult"})),  # found, right category
        LabelledMessage("你就是个老赖", Role.DEBTOR, frozenset({"threat"})),  # flagged, wrong category
        LabelledMessage("紫色的云", Role.DEBTOR, frozenset({"threat"})),  # missed
        LabelledMessage("您好，请按时还款。", Role.DEBTOR, frozenset()),  # lawful, not flagged
        LabelledMessage("他欠我们3000元", Role.CONTACT, frozenset()),  # lawful by label, flagged: a false positive
    ]
    result = evaluate(ScreeningService(SCREENER), items)
    assert (result.violations, result.lawful) == (3, 2)
    assert result.recall == pytest.approx(2 / 3)
    assert result.false_positive_rate == pytest.approx(1 / 2)
    assert result.category_accuracy == pytest.approx(1 / 3)
    scores = {s.category: s for s in result.per_category}
    assert (scores["insult"].true_positives, scores["insult"].false_positives) == (1, 1)
    assert scores["insult"].precision == pytest.approx(0.5)
    assert scores["threat"].recall == 0.0
    assert scores["threat"].precision is None  # never predicted
    assert scores["third_party_disclosure"].false_positive_rate == pytest.approx(1 / 5)
    assert len(result.misses) == 3


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "message"),
        ({"recipient_role": "debtor"}, "text"),
        ({"text": 5, "recipient_role": "debtor"}, "text"),
        ({"text": "hi"}, "recipient_role"),
        ({"text": "hi", "recipient_role": "boss"}, "recipient_role"),
        ({"text": "hi", "recipient_role": "debtor", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_message_names_its_field(document: object, field: str) -> None:
    with pytest.raises(ScreenInputError) as caught:
        parse_message(document)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        (None, "labels"),
        ("threat", "labels"),
        (["threat", "rude"], "labels[1]"),
        (["legal_action"], "labels[0]"),
        (["ok", "threat"], "labels[0]"),
    ],
)
def test_a_bad_label_names_its_field(labels: object, field: str) -> None:
    document = {"text": "hi", "recipient_role": "debtor"}
    if labels is not None:
        document["labels"] = labels  # type: ignore[assignment]
    with pytest.raises(ScreenInputError) as caught:
        parse_labelled(document)
    assert caught.value.field == field


def test_cross_validation_fits_on_the_other_folds_and_scores_every_message_once() -> None:
    items = [LabelledMessage(f"m{i}", Role.DEBTOR, frozenset({"threat"} if i % 2 else set())) for i in range(6)]
    seen: list[set[str]] = []

    def fit(part: Sequence[LabelledMessage]) -> FakeScreenModel:
        seen.append({m.text for m in part})
        # a model that "remembers" its training labels and calls every unseen message a threat
        return FakeScreenModel({m.text: frozenset({"threat"}) for m in items if m.text not in {p.text for p in part}})

    both, alone = cross_validate(items, fit, SCREENER, folds=3)
    assert seen == [{"m1", "m2", "m4", "m5"}, {"m0", "m2", "m3", "m5"}, {"m0", "m1", "m3", "m4"}]
    assert (alone.messages, alone.recall, alone.false_positive_rate) == (6, 1.0, 1.0)
    assert both.recall == 1.0


def test_cross_validation_needs_two_folds_to_the_number_of_messages() -> None:
    items = [LabelledMessage("m", Role.DEBTOR, frozenset())]
    with pytest.raises(ValueError, match="folds"):
        cross_validate(items, lambda part: FakeScreenModel({}), SCREENER, folds=2)


def test_a_reviewer_may_say_ok_for_a_lawful_message() -> None:
    assert parse_labelled({"text": "hi", "recipient_role": "debtor", "labels": ["ok"]}).labels == frozenset()
