"""The rule engine: picks the scripted reply for a call, and keeps rule counters and scenario state.

One engine per server. The rules live in an immutable `_RuleSet` (all rules in order, and per endpoint
the rules that can answer it), swapped whole on every change, so a request sees old rules or new,
never a mix. A rule's call-only checks run without the lock; its gates, `times`, `replies` and
`next_state` are checked and consumed under one lock, so choosing a rule is atomic with using it.

A rule's call number (what `call:` and `probability:` see) counts the calls that reached it, fitted
its call-only checks and its `state:`, while it still had answers left. Scenario state is kept per
scenario name, starts at "started", and `reset()` returns it there.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from mockai.call import ENDPOINTS, Call
from mockai.reply import Reply
from mockai.scenario.files import INLINE, Rule, Scenario, load_scenario, parse_rule, parse_scenario
from mockai.scenario.matching import START, Probe

ScenarioLike: TypeAlias = Scenario | Mapping[str, Any] | list[Any] | str | os.PathLike[str]
"""A Scenario, its data (a mapping, or a bare list of rules), or the path of a scenario file."""

SHOWN = 10
"""How many rules `explain()` lists before it summarises the rest."""


class _Slot:
    """A rule with its counters; only touched under the engine lock."""

    __slots__ = ("answered", "rule", "seen")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.seen = 0
        self.answered = 0


@dataclass(frozen=True)
class _RuleSet:
    slots: tuple[_Slot, ...]
    by_endpoint: Mapping[str, tuple[_Slot, ...]]

    @classmethod
    def of(cls, slots: Iterable[_Slot]) -> _RuleSet:
        slots = tuple(slots)
        by_endpoint = {
            e: tuple(s for s in slots if s.rule.endpoints is None or e in s.rule.endpoints) for e in ENDPOINTS
        }
        return cls(slots, by_endpoint)


def _always(reply: Reply) -> bool:
    return True


def as_scenario(scenario: ScenarioLike) -> Scenario:
    """A Scenario from any ScenarioLike; raises ScenarioError with every problem found."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, os.PathLike)):
        return load_scenario(scenario)
    return parse_scenario(scenario)


class RuleEngine:
    """Scripted replies for a server: load rules, then `choose(call)` on every request. Thread-safe."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._set = _RuleSet.of(())
        self._states: dict[str, str] = {}
        self._seed = seed

    @property
    def seed(self) -> int:
        """Seeds `probability` draws; changing it changes which calls a probabilistic rule takes."""
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        with self._lock:
            self._seed = value

    @property
    def rules(self) -> tuple[Rule, ...]:
        """All rules, in the order they are tried."""
        return tuple(s.rule for s in self._set.slots)

    def load(self, scenario: ScenarioLike) -> Scenario:
        """Append a scenario's rules after those already loaded (counters and state are kept)."""
        loaded = as_scenario(scenario)
        with self._lock:
            self._set = _RuleSet.of((*self._set.slots, *map(_Slot, loaded.rules)))
        return loaded

    def add_rule(self, rule: Mapping[str, Any], *, scenario: str = INLINE) -> Rule:
        """Append one rule given as a mapping shaped like an entry of a file's `rules:`."""
        with self._lock:
            number = 1 + sum(s.rule.scenario == scenario for s in self._set.slots)
            parsed = parse_rule(rule, scenario=scenario, number=number)
            self._set = _RuleSet.of((*self._set.slots, _Slot(parsed)))
        return parsed

    def replace(self, scenarios: ScenarioLike | Iterable[ScenarioLike]) -> list[Scenario]:
        """Swap in a new rule set at once, with fresh counters and state; nothing changes on error."""
        if isinstance(scenarios, (Scenario, Mapping, str, os.PathLike)):
            scenarios = [scenarios]
        loaded = [as_scenario(s) for s in scenarios]
        with self._lock:
            self._set = _RuleSet.of(_Slot(r) for s in loaded for r in s.rules)
            self._states.clear()
        return loaded

    def reset(self) -> None:
        """Forget counters and scenario state (every scenario back to "started"); keep the rules."""
        with self._lock:
            for slot in self._set.slots:
                slot.seen = slot.answered = 0
            self._states.clear()

    def clear(self) -> None:
        """Drop every rule, counter and state."""
        with self._lock:
            self._set = _RuleSet.of(())
            self._states.clear()

    def state(self, scenario: str = INLINE) -> str:
        """The current state of a scenario (by name)."""
        with self._lock:
            return self._states.get(scenario, START)

    def answered(self, rule: Rule) -> int:
        """How many times `rule` has answered since it was loaded or the engine was reset."""
        with self._lock:
            return next((s.answered for s in self._set.slots if s.rule is rule), 0)

    def unused_rules(self) -> list[Rule]:
        """Rules that have not answered yet, in order: for "expected rule was not used" failures."""
        with self._lock:
            return [s.rule for s in self._set.slots if s.answered == 0]

    def choose(self, call: Call, admit: Callable[[Reply], bool] = _always) -> Reply | None:
        """The reply of the first rule that fits `call`; None when no rule does.

        `admit` sees the reply before anything is used up and may refuse it (the rate limiter does, when
        the reply would cost quota it does not have): then the rule's counters, `times`, `replies` and
        `next_state` stay as they were, and the reply is still returned, so the caller can say whose answer
        it refused."""
        # Rules are matched one by one, in order, and matching stops at the first that answers: a slow rule
        # after it costs nothing. Under the lock, so the rules cannot change meanwhile; every matcher is
        # linear in the call (regexes run on RE2), so holding it is short.
        with self._lock:
            slots = self._set.by_endpoint.get(call.endpoint, ())
            return self._consume((s for s in slots if s.rule.fits(call)), call, admit)

    def _consume(self, fitting: Iterable[_Slot], call: Call, admit: Callable[[Reply], bool]) -> Reply | None:
        """Under the lock: the reply of the first slot whose gates admit the call; its counters and state move
        on only if `admit` takes the reply."""
        for slot in fitting:
            rule = slot.rule
            if rule.times is not None and slot.answered >= rule.times:
                continue
            if rule.gates:  # most rules have none: no probe to build
                probe = Probe(slot.seen + 1, self._states.get(rule.scenario, START), self._seed, rule.key)
                if not all(g.admits(probe) for g in rule.gates if g.before_count):
                    continue
                if not all(g.admits(probe) for g in rule.gates if not g.before_count):
                    slot.seen += 1  # the call reached this rule and counted, but it is not this rule's turn
                    continue
            template = rule.replies[min(slot.answered, len(rule.replies) - 1)]
            reply = template.render(call, slot.answered + 1)
            if admit(reply):
                slot.seen += 1
                slot.answered += 1
                if rule.next_state is not None:
                    self._states[rule.scenario] = rule.next_state
            return reply
        return None

    def explain(self, call: Call) -> str:
        """Why each rule would or would not answer `call`, nearest miss first; changes nothing."""
        with self._lock:
            rows = [(s.rule, self._misses(s, call)) for s in self._set.slots]
        head = f"{call.endpoint} (model={call.model!r}, text={_clip(call.text)!r})"
        if not rows:
            return f"no rule matched {head}; no rules are loaded"
        winner = next((rule for rule, misses in rows if not misses), None)
        # Rules for other endpoints are the farthest; then fewer misses first, ties in file order.
        ranked = sorted(
            rows, key=lambda row: (call.endpoint not in (row[0].endpoints or ENDPOINTS), len(row[1]))
        )
        if winner is not None:
            lines = [f"{winner.describe()} matches {head}"]
        else:
            nearest, misses = ranked[0]
            lines = [f"no rule matched {head}; closest: {nearest.describe()} failed on {', '.join(misses)}"]
        if len(rows) > 1:
            lines.append("rules, nearest first:")
            for rule, misses in ranked[:SHOWN]:
                lines.append(
                    f"  {rule.describe()}: " + (f"failed on {', '.join(misses)}" if misses else "matches")
                )
            if len(ranked) > SHOWN:
                lines.append(f"  ... and {len(ranked) - SHOWN} more")
        return "\n".join(lines)

    def _misses(self, slot: _Slot, call: Call) -> list[str]:
        """Under the lock: what stops `slot` answering `call` now, as `key=value` with the reason."""
        rule = slot.rule
        misses = rule.misses(call)
        if rule.times is not None and slot.answered >= rule.times:
            misses.append(f"times={rule.times} (used up)")
        state = self._states.get(rule.scenario, START)
        probe = Probe(slot.seen + 1, state, self._seed, rule.key)
        for gate in rule.gates:
            if not gate.admits(probe):
                why = f"scenario state is {state!r}" if gate.before_count else f"this would be call {probe.n}"
                misses.append(f"{gate.describe()} ({why})")
        return misses


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


__all__ = ["RuleEngine", "ScenarioLike", "as_scenario"]
