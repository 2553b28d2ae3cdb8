"""Rule packs: built-in ones load; user packs extend and override; invalid packs are refused with a message
that names the file, the rule and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairdun.config.packs import PackLoader, builtin_pack_names, parse_lexicon
from fairdun.policy import PackError

RULE = """
[[rules]]
id = "XX-TIME"
title = "Hours"
message_zh = "时间"
message_en = "Hours"
citation = {{ law = "Example Act", article = "s.1", checked = 2026-11-01 }}
[[rules.checks]]
{check}
"""
HOURS = 'kind = "time_window"\nwindows = [{ days = "all", start = "08:00", end = "20:00" }]'


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def pack_text(check: str = HOURS, head: str = "", rule: str | None = None) -> str:
    return (
        head
        + '[pack]\nname = "mine"\nversion = "1"\ntitle = "Mine"\n'
        + (RULE.format(check=check) if rule is None else rule)
    )


def test_the_builtin_packs_are_cn_first_then_the_others() -> None:
    assert builtin_pack_names() == ("cn", "au", "in", "ru", "us")


def test_every_builtin_rule_cites_a_law_an_article_and_a_check_date(loader: PackLoader) -> None:
    for name in builtin_pack_names():
        pack = loader.load(name)
        assert pack.rules
        for rule in pack.rules:
            assert rule.citations, rule.id
            for c in rule.citations:
                assert c.law
                assert c.article
                assert c.checked.year >= 2026
            assert rule.message_zh
            assert rule.message_en


def test_a_user_pack_extends_cn_overrides_a_rule_and_adds_one(loader: PackLoader) -> None:
    pack = loader.load("examples/packs/cn-ningxia.toml")
    cn = loader.load("cn")
    assert pack.extends == cn.label
    assert [r.id for r in pack.rules] == [*(r.id for r in cn.rules), "NX-CONTACT-DAY"]
    assert pack.rule("CN-TIME").title.startswith("No contact between 20:00")
    assert pack.rule("CN-TIME").source.endswith("cn-ningxia.toml")
    assert pack.rule("CN-PARTY") is cn.rule("CN-PARTY")


def test_an_override_keeps_the_fields_it_does_not_name(tmp_path: Path, loader: PackLoader) -> None:
    path = write(
        tmp_path,
        "late.toml",
        'extends = "cn"\n[pack]\nname = "late"\nversion = "1"\ntitle = "Later"\n'
        '[[rules]]\nid = "CN-TIME"\n[[rules.checks]]\nkind = "time_window"\n'
        'windows = [{ days = "all", start = "09:00", end = "21:00" }]\n',
    )
    pack = loader.load(path)
    assert pack.rule("CN-TIME").message_en == loader.load("cn").rule("CN-TIME").message_en
    assert pack.rule("CN-TIME").checks[0].describe().startswith("local all [09:00, 21:00)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[pack\nname = 1", "not valid TOML"),
        ('[pack]\nname = "mine"\nversion = "1"\n', "pack.title: is required"),
        ('[pack]\nname = "Mine!"\nversion = "1"\ntitle = "t"\n', "pack.name: 'Mine!': use lower case"),
        ('[pack]\nname = "mine"\nversion = "1"\ntitle = "t"\n', "rules: a pack needs at least one rule"),
        (pack_text(head='colour = "red"\n'), "colour: unknown field"),
        (
            pack_text(check=HOURS.replace("08:00", "25:00")),
            "rule XX-TIME: checks[0].windows[0].start: '25:00' is not a time",
        ),
        (
            pack_text(check=HOURS.replace("20:00", "07:00")),
            "rule XX-TIME: checks[0].windows[0].end: must be after start",
        ),
        (
            pack_text(check=HOURS.replace('"all"', '"weekdays"')),
            "rule XX-TIME: checks[0].windows[0].days: expected 'all'",
        ),
        (pack_text(check='kind = "vibes"'), "rule XX-TIME: checks[0].kind: unknown check kind 'vibes'"),
        (pack_text(check=HOURS + "\nagreed = true"), "rule XX-TIME: checks[0].agreed: unknown field"),
        (
            pack_text(check='kind = "cap"\nmax = 0\ndays = 1\ncount = { same = ["party"] }'),
            "rule XX-TIME: checks[0].max: must be at least 1, got 0",
        ),
        (
            pack_text(check='kind = "cap"\nmax = 3\ndays = 1\ncount = { same = ["phone"] }'),
            "rule XX-TIME: checks[0].count.same[0]: unknown key 'phone'",
        ),
        (
            pack_text(check='kind = "cap"\nmax = 3\ndays = 1\ncount = { outcomes = ["hung_up"], same = ["party"] }'),
            "rule XX-TIME: checks[0].count.outcomes[0]: unknown value 'hung_up'",
        ),
        (
            pack_text(check='kind = "content"\ncategories = ["rudeness"]'),
            "rule XX-TIME: checks[0].categories[0]: unknown category 'rudeness'",
        ),
        (
            pack_text(check='kind = "content_requires"\nwhat = "x"\npatterns = ["(unclosed"]'),
            "rule XX-TIME: checks[0].patterns[0]: not a valid regular expression",
        ),
        (
            pack_text(check='kind = "recipients"\nallow.boss = {}'),
            "rule XX-TIME: checks[0].allow.boss: unknown value 'boss'",
        ),
        (
            pack_text(check='kind = "recipients"\nallow.guarantor = { requires = ["rich"] }'),
            "rule XX-TIME: checks[0].allow.guarantor.requires[0]: unknown fact 'rich'",
        ),
        (pack_text(check='kind = "fact"\ndeny_if = "sunny"'), "rule XX-TIME: checks[0].deny_if: unknown fact 'sunny'"),
        (
            pack_text(rule=RULE.format(check=HOURS).replace('title = "Hours"\n', "")),
            "rule XX-TIME: title: is required",
        ),
        (
            pack_text(rule=RULE.format(check=HOURS).replace("citation = {", "cite = {")),
            "rule XX-TIME: citation: is required",
        ),
        (
            pack_text(rule=RULE.format(check=HOURS).replace("checked = 2026-11-01", 'checked = "last week"')),
            "rule XX-TIME: citation.checked: expected a date",
        ),
        (
            pack_text(rule=RULE.format(check=HOURS).replace('id = "XX-TIME"', 'id = "xx time"')),
            "rule xx time: id: rule ids are upper case",
        ),
        (
            pack_text(
                rule=RULE.format(check=HOURS).replace("[[rules.checks]]", 'channels = ["fax"]\n[[rules.checks]]')
            ),
            "rule XX-TIME: channels[0]: unknown value 'fax'",
        ),
        (pack_text(rule=RULE.format(check=HOURS) * 2), "rule XX-TIME: id: the same id appears twice"),
        (pack_text(head='extends = "zz"\n'), "extends: unknown pack 'zz'"),
    ],
)
def test_an_invalid_pack_is_refused_naming_the_file_the_rule_and_the_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "mine.toml", text)
    with pytest.raises(PackError) as caught:
        PackLoader().load(path)
    message = str(caught.value)
    assert message.startswith(path + ": ")
    assert expected in message


def test_a_pack_that_extends_itself_through_another_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", pack_text(head='extends = "b.toml"\n'))
    write(tmp_path, "b.toml", pack_text(head='extends = "a.toml"\n'))
    with pytest.raises(PackError, match="extends itself through"):
        PackLoader().load(str(tmp_path / "a.toml"))


def test_an_unknown_pack_name_lists_the_builtin_ones() -> None:
    with pytest.raises(KeyError, match="built-in packs: cn, au, in, ru, us"):
        PackLoader().load("mars")


def test_a_lexicon_with_a_broken_pattern_is_refused_naming_the_entry() -> None:
    doc = {"entry": [{"category": "insult", "pattern": "ok"}, {"category": "insult", "pattern": "(bad"}]}
    with pytest.raises(PackError, match=r"lexicon/x.toml: entry\[1\].pattern: not a valid regular expression"):
        parse_lexicon(doc, "lexicon/x.toml")


def test_a_lexicon_entry_with_an_unknown_category_is_refused() -> None:
    with pytest.raises(PackError, match=r"entry\[0\].category: unknown category 'rude'"):
        parse_lexicon({"entry": [{"category": "rude", "pattern": "x"}]}, "lexicon/x.toml")
