"""Finding and reading collection strategies.

Built-in strategies ship inside the package (``fairdun/strategies/*.toml``): ``default``, compliant, and
``aggressive``, the one the demo shows the gate refusing. A user strategy is a TOML file given by path. The
format is ``docs/strategies.md``; building and checking happen in :mod:`fairdun.policy.strategy`.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from fairdun.domain.delinquency import DEFAULT_BUCKETS, BucketTable
from fairdun.policy.strategy import Strategy, StrategyError, build_strategy

DEFAULT_STRATEGY = "default"


def _folder() -> Traversable:
    return resources.files("fairdun").joinpath("strategies")


def builtin_strategy_names() -> tuple[str, ...]:
    """The built-in strategies: the default first, then alphabetical."""
    names = [p.name.removesuffix(".toml") for p in _folder().iterdir() if p.name.endswith(".toml")]
    return tuple(sorted(names, key=lambda n: (n != DEFAULT_STRATEGY, n)))


def parse_strategy(text: str, source: str, *, buckets: BucketTable = DEFAULT_BUCKETS) -> Strategy:
    """A strategy from TOML text; ``source`` names it in errors."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StrategyError(source, f"not valid TOML: {exc}") from None
    return build_strategy(document, source, buckets)


def load_strategy(name_or_path: str | Path = DEFAULT_STRATEGY, *, buckets: BucketTable = DEFAULT_BUCKETS) -> Strategy:
    """A built-in strategy by name (``default``, ``aggressive``) or a strategy file by path.

    Errors are :class:`StrategyError` naming the file: an unknown name, a missing or unreadable file, invalid
    TOML, or anything :func:`~fairdun.policy.strategy.build_strategy` refuses.
    """
    text = str(name_or_path)
    builtin = builtin_strategy_names()
    if isinstance(name_or_path, str) and text in builtin:
        body = _folder().joinpath(f"{text}.toml").read_text(encoding="utf-8")
        return parse_strategy(body, f"{text}.toml (built-in)", buckets=buckets)
    looks_like_path = isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text
    if not looks_like_path:
        problem = f"unknown strategy; built-in strategies: {', '.join(builtin)}; or give a path to a .toml file"
        raise StrategyError(text, problem)
    path = Path(name_or_path)
    try:
        body = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StrategyError(text, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StrategyError(text, f"cannot be read: {exc}") from None
    return parse_strategy(body, text, buckets=buckets)
