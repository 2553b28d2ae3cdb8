"""Prints the gate demonstration (see ``fairdun.application.gate_demo``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from fairdun.application.gate_demo import PackRun, run_pack
from fairdun.config.packs import builtin_pack_names

if TYPE_CHECKING:
    from fairdun.bootstrap import App


def run(application: App, seed: int, console: Console) -> list[PackRun]:
    console.print(
        "[bold]fairdun gate demonstration[/bold]: an aggressive collector's week "
        "(a call every 20 minutes from 06:00 to midnight, hourly calls to the emergency contact, "
        "a threatening text, a text telling the contact about the debt), every attempt through the gate.\n"
    )
    runs = [run_pack(application.packs.load(name), seed) for name in builtin_pack_names()]
    table = Table(title="What the gate let through, per pack (7 days)")
    for column in ("Pack", "Planned", "Allowed", "Denied", "Indeterminate", "Stopped by (attempts)"):
        table.add_column(
            column, justify="right" if column in ("Planned", "Allowed", "Denied", "Indeterminate") else "left"
        )
    for r in runs:
        top = ", ".join(f"{rule} {n}" for rule, n in r.by_rule.most_common())
        table.add_row(r.pack.label, str(r.planned), str(r.allowed), str(r.denied), str(r.indeterminate), top)
    console.print(table)
    lang = application.settings.lang
    for r in [r for r in runs if r.pack.name in ("cn", "us")]:
        console.print(f"\n[bold]{r.pack.label}[/bold]: how the gate explains itself")
        for attempt, decision in r.examples:
            when = attempt.at.strftime("%a %H:%M")
            who = f"{attempt.recipient.role.value} {attempt.channel.value}"
            console.print(f"  {when} {who}: [red]{decision.effect.value}[/red]", highlight=False)
            for reason in decision.reasons:
                console.print(f"    {reason.rule}: {reason.message(lang)}", highlight=False, markup=False)
                console.print(f"      [{reason.citation}]", highlight=False, markup=False, style="dim")
            if decision.next_allowed_at:
                console.print(f"    next allowed at {decision.next_allowed_at.isoformat()}", highlight=False)
    console.print(
        "\nOnly allowed attempts entered the history the gate reads next, so the caps held all week "
        "(tests/policy/test_properties.py checks that on random months with an independent checker). "
        "Ask the gate yourself: fairdun gate check < examples/requests/night-call.json (see docs/gate.md)."
    )
    return runs
