"""Finding, reading and resolving rule packs and lexicons.

Built-in packs ship inside the package (``fairdun/packs/*.toml``); a user pack is a TOML file given by path and
may ``extends = "cn"`` (a built-in name, or a path relative to the extending file).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from fairdun.domain.contact import Role
from fairdun.policy.errors import PackError
from fairdun.policy.pack import Pack, build_pack
from fairdun.policy.screen import CATEGORIES, LexiconEntry, Screener

DEFAULT_PACK = "cn"


def _data_dir(folder: str) -> Any:
    return resources.files("fairdun").joinpath(folder)


def builtin_pack_names() -> tuple[str, ...]:
    names = [p.name.removesuffix(".toml") for p in _data_dir("packs").iterdir() if p.name.endswith(".toml")]
    # The default first, then alphabetical.
    return tuple(sorted(names, key=lambda n: (n != DEFAULT_PACK, n)))


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError(source, f"not valid TOML: {exc}") from None


def load_screener() -> Screener:
    """The screener built from every lexicon shipped in ``fairdun/lexicon``."""
    entries: list[LexiconEntry] = []
    safe: list[str] = []
    variants: dict[str, str] = {}
    for item in sorted(_data_dir("lexicon").iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".toml"):
            continue
        source = f"lexicon/{item.name}"
        doc = _parse_toml(item.read_text(encoding="utf-8"), source)
        e, s, v = parse_lexicon(doc, source)
        entries.extend(e)
        safe.extend(s)
        variants.update(v)
    return Screener(entries, safe, variants)


def parse_lexicon(doc: Mapping[str, Any], source: str) -> tuple[list[LexiconEntry], list[str], dict[str, str]]:
    """Entries, safe phrases and variant characters of one lexicon document, every pattern compiled once to
    prove it is valid."""
    entries = []
    for i, raw in enumerate(doc.get("entry", [])):
        where = f"entry[{i}]"
        if not isinstance(raw, Mapping):
            raise PackError(source, "expected a table", field=where)
        category = raw.get("category")
        if category not in CATEGORIES:
            raise PackError(source, f"unknown category {category!r}", field=f"{where}.category")
        pattern = _pattern(raw.get("pattern"), source, f"{where}.pattern")
        roles_raw = raw.get("roles")
        roles = None
        if roles_raw is not None:
            try:
                roles = frozenset(Role(x) for x in roles_raw)
            except (ValueError, TypeError):
                raise PackError(source, f"unknown role in {roles_raw!r}", field=f"{where}.roles") from None
        entries.append(LexiconEntry(category, pattern, str(raw.get("note", "")), str(raw.get("source", "")), roles))
    safe = [_pattern(s.get("pattern"), source, f"safe[{i}].pattern") for i, s in enumerate(doc.get("safe", []))]
    variants = doc.get("variants", {})
    for k, v in variants.items():
        if not (isinstance(k, str) and isinstance(v, str) and len(k) == 1 and len(v) == 1):
            raise PackError(source, "variants map one character to one character", field=f"variants.{k}")
    return entries, safe, dict(variants)


def _pattern(value: object, source: str, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise PackError(source, "expected a regular expression (a non-empty string)", field=field)
    try:
        re.compile(value)
    except re.error as exc:
        raise PackError(source, f"not a valid regular expression: {exc}", field=field) from None
    return value


class PackLoader:
    """Loads packs by built-in name or by path, caching each, resolving ``extends`` chains."""

    def __init__(self, screener: Screener | None = None) -> None:
        self.screener = screener or load_screener()
        self._cache: dict[str, Pack] = {}

    def __call__(self, name_or_path: str) -> Pack:
        return self.load(name_or_path)

    def load(self, name_or_path: str, relative_to: Path | None = None, chain: tuple[str, ...] = ()) -> Pack:
        if relative_to is None and not chain:
            hit = self._cache.get(name_or_path)
            if hit is not None:
                return hit
        key, text, source = self._locate(name_or_path, relative_to)
        if key in chain:
            raise PackError(source, "extends itself through " + " -> ".join([*chain, key]), field="extends")
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        doc = _parse_toml(text, source)
        base = None
        extends = doc.get("extends")
        if extends is not None:
            if not isinstance(extends, str) or not extends:
                raise PackError(source, "expected a pack name or path", field="extends")
            here = Path(key).parent if key.endswith(".toml") else None
            try:
                base = self.load(extends, here, (*chain, key))
            except KeyError as exc:
                raise PackError(source, str(exc.args[0]), field="extends") from None
        pack = build_pack(doc, source, self.screener, base)
        self._cache[key] = pack
        if relative_to is None and not chain:
            self._cache[name_or_path] = pack
        return pack

    def _locate(self, name_or_path: str, relative_to: Path | None) -> tuple[str, str, str]:
        builtin = builtin_pack_names()
        if name_or_path in builtin:
            text = _data_dir("packs").joinpath(f"{name_or_path}.toml").read_text(encoding="utf-8")
            return name_or_path, text, f"{name_or_path}.toml (built-in)"
        looks_like_path = name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path
        if not looks_like_path:
            raise KeyError(
                f"unknown pack {name_or_path!r}; built-in packs: {', '.join(builtin)}; or give a path to a .toml file"
            )
        path = Path(name_or_path)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyError(f"no pack file at {str(path)!r}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PackError(str(path), f"cannot be read: {exc}") from None
        return str(path.resolve()), text, str(path)
