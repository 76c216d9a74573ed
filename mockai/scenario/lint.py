"""Rules that load but can never answer: what `mockai check` reports beyond mistakes, and loading warns of.

Two kinds are found: a rule whose `model:` names an exact id that does not exist on the scenario's date
(unknown, not yet released, or retired), and a rule that an earlier rule always answers first (the earlier
one fits every call the later one fits, and nothing limits it: no `times`, no gates).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable

from mockai.models import catalogue
from mockai.scenario.files import Problem, Rule, Scenario, ScenarioError, load_scenario, scenario_paths
from mockai.scenario.matching import Model

GLOB = frozenset("*?[")


def never_fire(scenario: Scenario, today: dt.date | None = None) -> list[Problem]:
    """The rules of `scenario` that can never answer on its date (`as_of`, else `today`), each explained."""
    as_of = scenario.as_of or today or catalogue.today()
    problems = [p for rule in scenario.rules for p in _missing_models(rule, as_of)]
    for i, rule in enumerate(scenario.rules):
        earlier = next((e for e in scenario.rules[:i] if _covers(e, rule)), None)
        if earlier is not None:
            message = (
                f"this rule can never answer: {_label(earlier)} comes first and answers every call it fits; "
                "move this one above it, or give the earlier rule `times:` or a narrower `match:`"
            )
            problems.append(Problem(rule.path, rule.line, message))
    return problems


def _missing_models(rule: Rule, as_of: dt.date) -> list[Problem]:
    out = []
    for matcher in rule.matchers:
        if not isinstance(matcher, Model):
            continue
        names = [matcher.value] if isinstance(matcher.value, str) else list(matcher.value)
        if any(GLOB & set(name) for name in names) or any(name.startswith("ft:") for name in names):
            continue  # a glob or a fine-tune may match some id that exists
        dead = [(name, why) for name in names if (why := _absent(name, as_of))]
        if len(dead) == len(names):
            reasons = "; ".join(f"{name!r} {why}" for name, why in dead)
            message = (
                f"this rule can never answer: on {as_of} {reasons}. Set the scenario's as_of: to a date "
                "the model exists on, or name a model of that date"
            )
            out.append(Problem(rule.path, rule.line, message))
    return out


def _label(rule: Rule) -> str:
    """`rule 'greeting' (line 12)`, or `rule #2 (line 5)` for one without a name."""
    who = f"rule {rule.name or rule.id!r}" if rule.name or rule.id else f"rule #{rule.number}"
    return f"{who} (line {rule.line})" if rule.line else who


def _absent(name: str, as_of: dt.date) -> str | None:
    """Why model `name` does not exist on `as_of`, or None when it does."""
    model = catalogue.MODELS.get(name)
    if model is None:
        return "is not a model mockai knows"
    if model.released > as_of:
        return f"is not released yet (it is from {model.released})"
    if model.shutdown is not None and model.shutdown <= as_of:
        return f"is retired (since {model.shutdown})"
    return None


def _covers(earlier: Rule, later: Rule) -> bool:
    """Whether `earlier` fits every call `later` fits and always answers: then `later` never does."""
    if earlier.times is not None or earlier.gates:
        return False
    if earlier.endpoints is not None and (
        later.endpoints is None or not later.endpoints <= earlier.endpoints
    ):
        return False
    return {m.describe() for m in earlier.matchers} <= {m.describe() for m in later.matchers}


def check_files(paths: Iterable[str | os.PathLike[str]], today: dt.date | None = None) -> list[Problem]:
    """Every mistake in these scenario files (directories are searched), and every rule that can never
    answer; [] when all are fine."""
    problems: list[Problem] = []
    for path in scenario_paths(paths):
        try:
            problems.extend(never_fire(load_scenario(path), today))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    return problems
