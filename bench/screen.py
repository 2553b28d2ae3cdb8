"""Content screen throughput: messages per second on one core, about 60 characters each, Chinese and English.

    .venv/bin/python bench/screen.py            # the figures in docs/benchmarks.md
    .venv/bin/python bench/screen.py --quick    # a smoke run: fewer messages and repeats

A seeded set of distinct messages of 55-65 characters (half Chinese, half English; 80 % lawful, 20 % with a
violation; 80 % to debtors, 15 % to emergency contacts, 5 % to guarantors) is screened three ways:

* **screener**: ``Screener.screen(text, role)``, the lexicon screen the gate's content rules call;
* **service**: ``ScreeningService.screen_all`` over the whole set, building each verdict (what the Python API does);
* **JSON lines**: parse a ``{"text", "recipient_role"}`` line, screen it, dump the verdict (what ``fairdun screen``
  does per line, without the terminal).

It also reports how many messages the screen flagged, so a run that silently stopped finding anything would show.
This is a benchmark, not a test: it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from fairdun.application.screening import Message, ScreeningService, parse_message
from fairdun.config.packs import load_screener
from fairdun.domain.contact import Role
from machine import cpu_model, pin_to_one_core

TARGET_PER_SECOND = 20_000
SEED = 20261123
LENGTH = (55, 65)

NAMES_ZH = ("王小芳", "李明远", "陈佳", "刘强", "张伟", "周敏")
NAMES_EN = ("Sam Carter", "Jordan Lee", "Alex Wu", "Dana Wells", "Chris Park", "Maria Lopez")

# Sentences a collection system sends (lawful) and ones it must never send; {n} a name, {a} an amount.
ZH_LAWFUL = (
    "您好，您的借款本期应还{a}元，已逾期{d}天，请及时还款。",
    "温馨提示：您的账单将于明日到期，请确保还款账户余额充足。",
    "如需协商分期还款方案，请拨打客服热线或在App内申请。",
    "我们不会联系您的通讯录联系人，请放心与我们沟通。",
    "逾期记录将依法报送至人民银行征信系统，请按时还款。",
    "如遇暴力催收或冒充公检法人员，请拨打110报警。",
    "您好，{n}，您的还款已到账，感谢您的配合。",
    "本短信由示例金融发送，退订回T。",
)
ZH_CONTACT = ("您好，麻烦转告{n}回电13800001234，谢谢。", "打扰了，我们有事想联系{n}，请他方便时回电。")
ZH_GUARANTOR = ("您作为保证人，借款人{n}的欠款{a}元已逾期，请履行保证责任。",)
ZH_BAD = (
    "你这个老赖，再不还钱就爆你通讯录。",
    "不还就让你坐牢，明天就上门抓你。",
    "小心你和你家人的安全，我们知道你住哪。",
    "交{a}元手续费就帮你停催，转到我个人账户。",
    "去别的平台借钱先还我们，撸口子也行。",
    "这里是公安局经侦大队，法院传票已经寄出。",
)
ZH_CONTACT_BAD = ("您好，{n}欠我们{a}元一直不还，请转告他。",)
EN_LAWFUL = (
    "Hi {n}, your payment of ${a} is {d} days past due.",
    "Please call us at 555-0142 to set up a plan for ${a}.",
    "{n}, we will not contact your employer about this.",
    "Reply STOP to opt out of texts about loan {a}.",
    "You can dispute this debt of ${a} within 30 days.",
    "Thank you {n}, your payment of ${a} has been received.",
    "Late payments may be reported to the credit bureaus.",
    "Your installment of ${a} is due in {d} days, {n}.",
)
EN_CONTACT = ("Hi, please ask {n} to call Northline at 555-0177.", "We are trying to reach {n}; please have them call.")
EN_GUARANTOR = ("As guarantor, you owe the overdue amount of ${a} on this loan.",)
EN_BAD = (
    "Pay up, you deadbeat, or we will tell your employer.",
    "You will be arrested today if this is not paid.",
    "This is Officer Smith from the sheriff's office.",
    "We know where you live. Pay now or else.",
    "Take out a payday loan and pay us today.",
    "There's a $99 fee to stop the collection calls.",
)
ZH_SHORT = ("谢谢。", "请回电。", "退订回T。", "祝您生活愉快。", "如已还款请忽略。", "详询客服热线。")
EN_SHORT = ("Thanks.", "Call us.", "Reply STOP to opt out.", "Have a good day.", "Ignore if paid.")
EN_CONTACT_BAD = ("{n} owes us ${a} and has not paid, please tell them.",)


def _fill(template: str, rng: random.Random, zh: bool) -> str:
    return template.format(
        n=rng.choice(NAMES_ZH if zh else NAMES_EN), a=rng.randrange(200, 20_000), d=rng.randrange(1, 90)
    )


def _message(rng: random.Random, zh: bool) -> tuple[str, Role]:
    """One message of LENGTH characters: sentences drawn for a recipient until the length fits."""
    r = rng.random()
    role = Role.DEBTOR if r < 0.80 else Role.CONTACT if r < 0.95 else Role.GUARANTOR
    bad = rng.random() < 0.20
    pools = {
        (True, Role.DEBTOR): (ZH_LAWFUL, ZH_BAD),
        (True, Role.CONTACT): (ZH_CONTACT, ZH_CONTACT_BAD),
        (True, Role.GUARANTOR): (ZH_GUARANTOR, ZH_BAD),
        (False, Role.DEBTOR): (EN_LAWFUL, EN_BAD),
        (False, Role.CONTACT): (EN_CONTACT, EN_CONTACT_BAD),
        (False, Role.GUARANTOR): (EN_GUARANTOR, EN_BAD),
    }
    lawful, violating = pools[(zh, role)]
    while True:
        parts = [_fill(rng.choice(violating if bad else lawful), rng, zh)]
        # then lawful sentences for this recipient, and short ones to land in LENGTH
        while sum(map(len, parts)) < LENGTH[0]:
            short = LENGTH[0] - sum(map(len, parts)) < 20
            if short:
                pool = ZH_SHORT if zh else EN_SHORT
            elif role is Role.CONTACT:  # a contact hears nothing of the debt, unless this is a violating message
                pool = ZH_CONTACT if zh else EN_CONTACT
            else:
                pool = ZH_LAWFUL if zh else EN_LAWFUL
            parts.append(_fill(rng.choice(pool), rng, zh))
        rng.shuffle(parts)
        text = ("" if zh else " ").join(parts)
        if LENGTH[0] <= len(text) <= LENGTH[1]:
            return text, role


def messages(count: int, seed: int = SEED) -> list[tuple[str, Role]]:
    rng = random.Random(seed)
    out: list[tuple[str, Role]] = []
    seen: set[str] = set()
    while len(out) < count:
        text, role = _message(rng, zh=len(out) % 2 == 0)  # alternate: half Chinese, half English
        if text not in seen:
            seen.add(text)
            out.append((text, role))
    return out


def _rates(run: Callable[[], object], count: int, repeats: int) -> tuple[float, float]:
    """(best, median) messages per second over ``repeats`` timed runs after one warm-up run."""
    run()
    rates = []
    for _ in range(repeats):
        gc.collect()
        start = clock.perf_counter()
        run()
        rates.append(count / (clock.perf_counter() - start))
    return max(rates), statistics.median(rates)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2,000 messages, 3 repeats")
    parser.add_argument("--messages", type=int, default=20_000, help="distinct messages in the set")
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per figure")
    args = parser.parse_args(argv)
    count, repeats = (2_000, 3) if args.quick else (args.messages, args.repeats)
    pinning = pin_to_one_core()

    screener = load_screener()
    service = ScreeningService(screener)
    data = messages(count)
    zh = [(t, r) for t, r in data if any("\u4e00" <= c <= "\u9fff" for c in t)]
    chinese = set(zh)
    en = [(t, r) for t, r in data if (t, r) not in chinese]
    lines = [json.dumps({"text": t, "recipient_role": r.value}, ensure_ascii=False) for t, r in data]
    wrapped = [Message(t, r) for t, r in data]

    def screen_set(items: list[tuple[str, Role]]) -> Callable[[], object]:
        return lambda: [screener.screen(t, r) for t, r in items]

    def clean_then_screen() -> object:  # what the gate's content checks and the audit do
        return [() if screener.clean(t, r) else screener.screen(t, r) for t, r in data]

    def json_lines() -> object:
        out = []
        for line in lines:
            m = parse_message(json.loads(line))
            out.append(json.dumps(service.screen(m.text, m.role).to_json(), ensure_ascii=False))
        return out

    flagged = sum(r.verdict == "violation" for r in service.screen_all(wrapped))
    mean_length = statistics.mean(len(t) for t, _ in data)
    print("Content screen throughput (one core)")
    print(f"  machine: {cpu_model()} ({os.cpu_count()} logical CPUs visible, {pinning})")
    print(f"  os: {platform.system()} {platform.release()} {platform.machine()}")
    print(f"  python: {platform.python_implementation()} {platform.python_version()}")
    print(f"  date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(
        f"  set: {len(data):,} distinct messages, {len(zh):,} Chinese and {len(en):,} English, "
        f"{mean_length:.1f} characters on average ({LENGTH[0]}-{LENGTH[1]}); {flagged:,} flagged "
        f"({flagged / len(data):.1%}); seed {SEED}; {repeats} timed runs per figure after a warm-up"
    )
    print()
    print(f"  {'what':<34} {'best msg/s':>12} {'median msg/s':>13} {'µs/msg (median)':>16}")
    rows = [
        ("screener, mixed zh/en", screen_set(data), len(data)),
        ("screener, Chinese only", screen_set(zh), len(zh)),
        ("screener, English only", screen_set(en), len(en)),
        ("clean?, mixed zh/en (all asked)", lambda: [screener.clean(t, r) for t, r in data], len(data)),
        ("clean? then screen where not clean", clean_then_screen, len(data)),
        ("finds? (the screen's yes or no)", lambda: [screener.finds(t, r) for t, r in data], len(data)),
        ("service (screen_all + verdicts)", lambda: service.screen_all(wrapped), len(data)),
        ("JSON lines (parse, screen, dump)", json_lines, len(data)),
    ]
    results = {}
    for name, run, n in rows:
        best, median = _rates(run, n, repeats)
        results[name] = median
        print(f"  {name:<34} {best:>12,.0f} {median:>13,.0f} {1e6 / median:>16.1f}")
    print()
    mixed = results["screener, mixed zh/en"]
    verdict = "met" if mixed >= TARGET_PER_SECOND else "NOT met"
    print(f"  target: >= {TARGET_PER_SECOND:,} messages/s (screener, mixed, median): {mixed:,.0f} -> {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
