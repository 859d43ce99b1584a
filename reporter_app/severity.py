"""Engineering priority suggested from the reporter's impact and reach, with its reason.

Impact and priority are two axes that are never merged: the rules only *suggest* a priority,
which a role allowed to triage may change. Rules are data (config `[[priority.rules]]`); the
first rule that matches wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reporter_app.model import Impact, Priority, Reach


@dataclass(frozen=True)
class PriorityRule:
    priority: Priority
    reason: str
    impact: Impact | None = None
    reach: Reach | None = None
    min_users: int | None = None
    money_lost: bool | None = None

    def matches(self, impact: Impact, reach: Reach, users: int | None, money_lost: bool) -> bool:
        if self.impact is not None and self.impact != impact:
            return False
        if self.reach is not None and self.reach != reach:
            return False
        if self.min_users is not None and (users is None or users < self.min_users):
            return False
        return self.money_lost is None or self.money_lost == money_lost

    def as_mapping(self) -> dict[str, Any]:
        """The rule as a config table (`[[priority.rules]]`), leaving out the conditions it does not have."""
        conditions = {"impact": self.impact and self.impact.value, "reach": self.reach and self.reach.value,
                      "min_users": self.min_users, "money_lost": self.money_lost}
        return {**{k: v for k, v in conditions.items() if v is not None},
                "priority": self.priority.value, "reason": self.reason}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PriorityRule:
        def optional(name: str, kind: Any) -> Any:
            value = data.get(name)
            return None if value in (None, "") else kind(value)

        return cls(
            priority=Priority(data["priority"]), reason=str(data.get("reason", "")),
            impact=optional("impact", Impact), reach=optional("reach", Reach),
            min_users=optional("min_users", int), money_lost=optional("money_lost", bool),
        )


DEFAULT_RULES: tuple[PriorityRule, ...] = (
    PriorityRule(Priority.P1, "money is being lost", money_lost=True),
    PriorityRule(Priority.P1, "more than 100 users are affected", min_users=101),
    PriorityRule(Priority.P1, "many users cannot continue", impact=Impact.BLOCKER, reach=Reach.MANY_USERS),
    PriorityRule(Priority.P2, "someone cannot continue", impact=Impact.BLOCKER),
    PriorityRule(Priority.P2, "many users need a workaround", impact=Impact.MAJOR, reach=Reach.MANY_USERS),
    PriorityRule(Priority.P3, "works with a workaround", impact=Impact.MAJOR),
    PriorityRule(Priority.P3, "annoys many users", impact=Impact.MINOR, reach=Reach.MANY_USERS),
    PriorityRule(Priority.P4, "not blocking anyone"),
)


@dataclass(frozen=True)
class Suggestion:
    priority: Priority
    reason: str


def suggest_priority(
    impact: Impact,
    reach: Reach,
    *,
    users_affected: int | None = None,
    money_lost: bool = False,
    rules: Sequence[PriorityRule] = DEFAULT_RULES,
) -> Suggestion:
    for rule in rules:
        if rule.matches(impact, reach, users_affected, money_lost):
            return Suggestion(rule.priority, rule.reason)
    return Suggestion(Priority.P4, "no rule matched")


def rules_from_config(entries: Iterable[Any] | None) -> tuple[PriorityRule, ...]:
    """Typed rules from the config (already validated there), or plain mappings."""
    rules = []
    for entry in entries or []:
        if isinstance(entry, Mapping):
            rules.append(PriorityRule.from_mapping(entry))
        else:
            rules.append(PriorityRule(priority=Priority(entry.priority), reason=entry.reason, impact=entry.impact,
                                      reach=entry.reach, min_users=entry.min_users, money_lost=entry.money_lost))
    return tuple(rules) or DEFAULT_RULES
