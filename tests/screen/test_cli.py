"""``fairdun screen``, ``label``, ``train`` and ``evaluate`` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairdun.cli.main import app

runner = CliRunner()
CORPUS = Path(__file__).parent / "corpus"


def lines(*documents: object) -> str:
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents)


def test_screen_prints_one_verdict_a_line_with_evidence_spans_into_the_text() -> None:
    messages = [
        {"text": "你这个老 赖，再不还就爆你通讯录！", "recipient_role": "debtor"},
        {"text": "他欠我们3000元", "recipient_role": "debtor"},
        {"text": "他欠我们3000元", "recipient_role": "contact"},
        {"text": "We will not contact your employer.", "recipient_role": "debtor"},
    ]
    result = runner.invoke(app, ["screen"], input=lines(*messages))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["verdict"] for o in out] == ["violation", "ok", "violation", "ok"]
    assert out[0]["categories"] == ["insult", "exposure_threat"]
    for evidence in out[0]["evidence"]:
        assert messages[0]["text"][evidence["start"] : evidence["end"]] == evidence["text"]
        assert evidence["origin"] == "lexicon"
    assert out[2]["categories"] == ["third_party_disclosure"]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (
            '{"text": "hi", "recipient_role": "debtor"}\n{"text": "hi", "recipient_role": "boss"}\n',
            "line 2: recipient_role",
        ),
        ('{"text": "hi", "recipient_role": "debtor"}\n\n{"recipient_role": "debtor"}\n', "line 3: text: missing"),
        ('{"text": "hi", "recipient_role": "debtor"\n', "line 1: not valid JSON"),
        ('["hi"]\n', "line 1: message: expected a JSON object"),
    ],
)
def test_a_bad_line_fails_with_its_number_and_field_and_prints_nothing(stdin: str, message: str) -> None:
    result = runner.invoke(app, ["screen"], input=stdin)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("fairdun: error: stdin: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_labels_are_appended_with_reviewer_and_time_and_a_bad_batch_stores_nothing(tmp_path: Path) -> None:
    good = lines(
        {"text": "你就是个老赖", "recipient_role": "debtor", "labels": ["insult"]},
        {"text": "请按时还款", "recipient_role": "debtor", "labels": [], "reviewer": "li"},
    )
    result = runner.invoke(app, ["screen", "label", "--dir", str(tmp_path), "--reviewer", "wang"], input=good)
    assert result.exit_code == 0, result.output
    stored = [json.loads(x) for x in (tmp_path / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(s["labels"], s["reviewer"]) for s in stored] == [(["insult"], "wang"), ([], "li")]
    assert all(s["labelled_at"].endswith("+00:00") for s in stored)

    bad = lines({"text": "x", "recipient_role": "debtor", "labels": []}, {"text": "y", "recipient_role": "debtor"})
    result = runner.invoke(app, ["screen", "label", "--dir", str(tmp_path)], input=bad)
    assert result.exit_code == 2
    assert "line 2: labels: missing" in result.stderr
    assert len((tmp_path / "labels.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_train_then_screen_with_the_model_adds_model_findings_the_lexicons_miss(tmp_path: Path) -> None:
    # A made-up code word the lexicons cannot know: reviewers labelled it a threat.
    examples = [{"text": f"紫电{i}号今晚去找你", "recipient_role": "debtor", "labels": ["threat"]} for i in range(12)]
    examples += [{"text": f"您好，第{i}期账单请按时还款", "recipient_role": "debtor", "labels": []} for i in range(12)]
    assert runner.invoke(app, ["screen", "label", "--dir", str(tmp_path)], input=lines(*examples)).exit_code == 0
    result = runner.invoke(app, ["screen", "train", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "trained on 24 labelled messages" in result.stdout
    model = tmp_path / "model.joblib"
    assert model.is_file()

    probe = lines(
        {"text": "紫电今晚去找你", "recipient_role": "debtor"}, {"text": "你就是个老赖", "recipient_role": "debtor"}
    )
    plain = [json.loads(x) for x in runner.invoke(app, ["screen"], input=probe).stdout.splitlines()]
    assert plain[0]["verdict"] == "ok"
    result = runner.invoke(app, ["screen", "--model", str(model)], input=probe)
    assert result.exit_code == 0, result.output
    with_model = [json.loads(x) for x in result.stdout.splitlines()]
    assert with_model[0]["categories"] == ["threat"]
    assert {e["origin"] for e in with_model[0]["evidence"]} == {"model"}
    # the model never takes a lexicon finding away
    assert ("insult", "lexicon") in {(e["category"], e["origin"]) for e in with_model[1]["evidence"]}


def test_train_without_both_kinds_of_label_or_with_a_missing_model_fails_with_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["screen", "train", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "need both lawful messages and violations" in result.stderr
    labels = str(CORPUS / "holdout.jsonl")
    result = runner.invoke(app, ["screen", "train", "--dir", str(tmp_path), "--labels", labels, "--threshold", "1.5"])
    assert result.exit_code == 2
    assert "threshold: expected a probability between 0 and 1" in result.stderr
    result = runner.invoke(app, ["screen", "train", "--dir", str(tmp_path), "--labels", labels, "--cv", "1"])
    assert result.exit_code == 2
    assert "--cv: folds: expected 2 to 133" in result.stderr
    result = runner.invoke(app, ["screen", "--model", str(tmp_path / "none.joblib")], input="")
    assert result.exit_code == 2
    assert "no such model file" in result.stderr
    (tmp_path / "junk.joblib").write_bytes(b"not a pickle")
    result = runner.invoke(app, ["screen", "--model", str(tmp_path / "junk.joblib")], input="")
    assert result.exit_code == 2
    assert "not a fairdun screen model" in result.stderr


def test_evaluate_prints_figures_per_category_as_a_table_and_as_json(tmp_path: Path) -> None:
    file = tmp_path / "labelled.jsonl"
    file.write_text(
        lines(
            {"text": "你就是个老赖", "recipient_role": "debtor", "labels": ["insult"]},
            {"text": "紫色的云", "recipient_role": "debtor", "labels": ["threat"]},
            {"text": "请按时还款", "recipient_role": "debtor", "labels": []},
            {"text": "他欠我们3000元", "recipient_role": "contact", "labels": []},
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["screen", "evaluate", str(file), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert (figures["recall"], figures["false_positive_rate"], figures["category_accuracy"]) == (0.5, 0.5, 0.5)
    assert figures["categories"]["insult"]["precision"] == 1.0
    assert figures["categories"]["threat"]["recall"] == 0.0
    table = runner.invoke(app, ["screen", "evaluate", str(file)])
    assert table.exit_code == 0
    assert "false-positive rate" in table.stdout
    assert "third_party_disclosure" in table.stdout


def test_evaluate_on_the_corpus_with_a_model_trained_on_the_dev_split(tmp_path: Path) -> None:
    result = runner.invoke(app, ["screen", "train", "--dir", str(tmp_path), "--labels", str(CORPUS / "dev.jsonl")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["screen", "evaluate", str(CORPUS / "holdout.jsonl"), "--model", str(tmp_path / "model.joblib"), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["recall"] >= 0.95  # the lexicons alone reach it; the model only adds


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["screen", "evaluate", "missing.jsonl"], "missing.jsonl: no such file"),
        (["screen", "train", "--labels", "missing.jsonl"], "missing.jsonl: no such file"),
    ],
)
def test_a_missing_file_is_named(
    argv: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_bad_line_in_an_evaluated_file_names_the_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "bad.jsonl"
    file.write_text('{"text": "x", "recipient_role": "debtor", "labels": ["rude"]}\n', encoding="utf-8")
    result = runner.invoke(app, ["screen", "evaluate", str(file)])
    assert result.exit_code == 2
    assert f"{file}: line 1: labels[0]" in result.stderr
