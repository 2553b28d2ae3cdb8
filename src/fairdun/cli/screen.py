"""``fairdun screen``: screen message content; store reviewers' labels, train a model on them, evaluate.

    fairdun screen [--model PATH]         JSON lines in, one verdict a line out (exit 0 whatever the verdicts)
    fairdun screen label [--dir DIR]      store reviewers' labels (JSON lines on stdin)
    fairdun screen train [--dir DIR]      fit the model on the stored labels (and --labels FILE), save it
    fairdun screen evaluate FILE [--json] precision, recall and false-positive rate per category

Bad input exits 2 with one line naming the line and the field; nothing is printed or stored then.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from fairdun.application.screening import (
    Evaluation,
    LabelledMessage,
    Message,
    ScreeningService,
    ScreenInputError,
    ScreenModel,
    cross_validate,
    evaluate,
    parse_labelled,
    parse_message,
)
from fairdun.config.packs import load_screener
from fairdun.policy.errors import PolicyError

DEFAULT_DIR = Path("fairdun-screen")
MODEL_FILE = "model.joblib"

screen_app = typer.Typer(
    help=(
        'Screen messages: JSON lines {"text", "recipient_role"} on stdin, one verdict a line on stdout. '
        "The commands store reviewers' labels, train a model on them and evaluate the screen."
    ),
    invoke_without_command=True,
)

DirOption = Annotated[
    Path,
    typer.Option(
        "--dir",
        envvar="FAIRDUN_SCREEN_DIR",
        help="Directory of the label store (labels.jsonl) and the trained model (model.joblib).",
    ),
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"fairdun: error: {message}", err=True)
    raise typer.Exit(2)


def _read_lines(text: str, parse: Any, source: str = "stdin") -> list[Any]:
    """Every non-blank line parsed before anything is done; the first bad one fails with its line number."""
    items = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(parse(json.loads(line)))
        except json.JSONDecodeError as exc:
            _fail(f"{source}: line {n}: not valid JSON: {exc.msg} (column {exc.colno})")
        except ScreenInputError as exc:
            _fail(f"{source}: line {n}: {exc}")
    return items


def _model(path: Path | None) -> ScreenModel | None:
    if path is None:
        return None
    from fairdun.adapters.screen_model import ScreenModelError, load_model  # noqa: PLC0415 (scikit-learn is slow to import)

    try:
        return load_model(path)
    except ScreenModelError as exc:
        _fail(str(exc))


def _service(model_path: Path | None) -> ScreeningService:
    try:
        screener = load_screener()
    except PolicyError as exc:
        _fail(str(exc))
    return ScreeningService(screener, _model(model_path))


@screen_app.callback()
def screen(
    ctx: typer.Context,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Also use a model trained by `fairdun screen train` (its findings add only)."),
    ] = None,
) -> None:
    """Screen messages: JSON lines {"text", "recipient_role"} on stdin, one verdict a line on stdout."""
    if ctx.invoked_subcommand is not None:
        return
    messages: list[Message] = _read_lines(sys.stdin.read(), parse_message)
    service = _service(model)
    for result in service.screen_all(messages):
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))


@screen_app.command("label")
def label(
    directory: DirOption = DEFAULT_DIR,
    reviewer: Annotated[
        str | None, typer.Option("--reviewer", help="Reviewer name for lines that do not give one.")
    ] = None,
) -> None:
    """Store reviewers' labels: JSON lines {"text", "recipient_role", "labels": [...]} on stdin ([]: lawful)."""
    from fairdun.adapters.screen_labels import JsonlLabelStore, LabelStoreError  # noqa: PLC0415

    items: list[LabelledMessage] = _read_lines(sys.stdin.read(), parse_labelled)
    if not items:
        _fail("stdin: no labels given (JSON lines with text, recipient_role and labels)")
    if reviewer is not None:
        items = [i if i.reviewer else LabelledMessage(i.text, i.role, i.labels, reviewer) for i in items]
    store = JsonlLabelStore(directory)
    try:
        stored = store.add(items, datetime.now(UTC))
    except LabelStoreError as exc:
        _fail(str(exc))
    typer.echo(f"stored {stored} labels in {store.path}")


@screen_app.command("train")
def train(
    directory: DirOption = DEFAULT_DIR,
    labels: Annotated[
        list[Path] | None,
        typer.Option("--labels", help="Also train on this labelled JSON-lines file (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to save the model (default DIR/model.joblib).")
    ] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Probability from which the model reports a category.")
    ] = 0.5,
    cv: Annotated[
        int | None,
        typer.Option("--cv", help="Also report K-fold cross-validated figures (how the model does on unseen labels)."),
    ] = None,
) -> None:
    """Fit the model (character n-grams, logistic regression per category) on the stored labels and save it."""
    from fairdun.adapters.screen_labels import JsonlLabelStore, LabelStoreError, read_labelled_lines  # noqa: PLC0415
    from fairdun.adapters.screen_model import ScreenModelError  # noqa: PLC0415
    from fairdun.adapters.screen_model import train as fit  # noqa: PLC0415

    store = JsonlLabelStore(directory)
    try:
        examples = store.all()
        for path in labels or []:
            examples.extend(read_labelled_lines(_read_text(path), str(path)))
    except LabelStoreError as exc:
        _fail(str(exc))
    target = out or directory / MODEL_FILE
    try:
        model = fit(examples, threshold)
        model.save(target)
    except ScreenModelError as exc:
        _fail(str(exc))
    skipped = f"; no examples of {', '.join(model.skipped)}" if model.skipped else ""
    typer.echo(f"trained on {model.trained_on} labelled messages; model saved to {target}{skipped}")
    if cv is None:
        return
    try:
        both, alone = cross_validate(examples, lambda part: fit(part, threshold), _service(None).screener, cv)
    except (ScreenModelError, ValueError) as exc:
        _fail(f"--cv: {exc}")
    for name, result in (("lexicons + model", both), ("model alone", alone)):
        typer.echo(
            f"cross-validated ({cv} folds), {name}: recall {_figure(result.recall)}, "
            f"false-positive rate {_figure(result.false_positive_rate)}, "
            f"right category {_figure(result.category_accuracy)}"
        )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"{path}: no such file")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{path}: cannot read: {exc}")


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


@screen_app.command("evaluate")
def evaluate_command(
    file: Annotated[Path, typer.Argument(help="Labelled messages: JSON lines with text, recipient_role, labels.")],
    model: Annotated[
        Path | None, typer.Option("--model", help="Also use this model (default: the lexicon screen alone).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON instead of a table.")] = False,
) -> None:
    """Precision, recall and false-positive rate per category of the screen on a labelled file."""
    items: list[LabelledMessage] = _read_lines(_read_text(file), parse_labelled, str(file))
    if not items:
        _fail(f"{file}: no labelled messages")
    result = evaluate(_service(model), items)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    _print_table(result, f"{file}{' with ' + str(model) if model else ''}")


def _print_table(result: Evaluation, title: str) -> None:
    table = Table(title=f"Screen on {title}: {result.messages} messages, {result.violations} violations")
    for column in ("category", "messages", "precision", "recall", "false-positive rate"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for s in result.per_category:
        positives = s.true_positives + s.false_negatives
        table.add_row(
            s.category, str(positives), _figure(s.precision), _figure(s.recall), _figure(s.false_positive_rate)
        )
    table.add_section()
    table.add_row(
        "any violation", str(result.violations), "", _figure(result.recall), _figure(result.false_positive_rate)
    )
    table.add_row("right category", str(result.violations), "", _figure(result.category_accuracy), "")
    Console(soft_wrap=False).print(table)
