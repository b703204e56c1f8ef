"""``-p NAME VALUE``: converted and checked through the parameters' declarations.

The type, bounds, choices, keys and None of a parameter come from :mod:`lib.parameters` (see
:mod:`lib.run.notebooks` for a parameter it does not declare); this module adds what only the
runner knows: which selected notebooks take a name, the orders among their final values, and the
checks that need the source (event names it has, the breakdowns it can give).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from lib import parameters
from lib.data import Source
from lib.parameters import RUN_PARAMETERS
from lib.retention import ACTIVE_DAYS, PURCHASES
from lib.run.errors import UsageError
from lib.run.notebooks import Notebook, Parameter

FLAG_FOR = {
    "start": "--start",
    "end": "--end",
    "source": "--source",
    "timezone": "--timezone",
    "output_dir": "--output",
}
# The parameter whose values depend on the source's columns (funnel.breakdowns).
BREAKDOWN = "breakdown"
# The parameter checked against the notebook's funnel (its steps, given or the default path).
EXCLUSIONS = "funnel_exclusions"
STEPS = "funnel_steps"


def convert_value(raw: str, param: Parameter) -> Any:
    """Convert a ``-p`` value to the type of ``param``'s declaration, without evaluating code.

    See :func:`lib.parameters.convert`; a value of the wrong type is a UsageError naming the
    parameter, what it takes and the notebook's default.
    """
    try:
        return parameters.convert(raw, param.spec)
    except ValueError as exc:
        raise UsageError(
            f"-p {param.name} {raw!r}: {exc} (the notebook's default is {param.default})"
        ) from None


def did_you_mean(word: str, known: Sequence[str]) -> str:
    """``; did you mean 'x'?`` for the closest of ``known``, or nothing."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _listing(names: Sequence[str], most: int = 20) -> str:
    shown = ", ".join(names[:most]) or "none"
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def user_parameters(pairs: list[list[str]], selected: list[Notebook]) -> dict[str, dict[str, Any]]:
    """``-p`` values per notebook, converted and checked (bounds, choices, shapes, orders) for
    each notebook that has the parameter; raise UsageError for the first problem."""
    per_notebook: dict[str, dict[str, Any]] = {nb.name: {} for nb in selected}
    seen: set[str] = set()
    for name, raw in pairs:
        if name in RUN_PARAMETERS:
            raise UsageError(f"-p {name}: set it with {FLAG_FOR[name]} instead")
        if name in seen:
            raise UsageError(f"-p {name} is given more than once")
        seen.add(name)
        owners = [nb for nb in selected if name in nb.own_parameters]
        if not owners:
            known = sorted({p for nb in selected for p in nb.own_parameters})
            raise UsageError(
                f"-p {name}: no selected notebook has a parameter {name!r}"
                f"{did_you_mean(name, known)} (parameters: {', '.join(known) or 'none'})"
            )
        for nb in owners:
            param = nb.own_parameters[name]
            try:
                value = convert_value(raw, param)
                problem = parameters.problem(param.spec, value)
                if problem:
                    raise UsageError(
                        f"-p {name} {raw!r}: {problem} (the notebook's default is {param.default})"
                    )
            except UsageError as exc:
                raise UsageError(f"{exc} in notebook '{nb.name}'") from None
            per_notebook[nb.name][name] = value
    raws = dict(pairs)
    for nb in selected:
        defaults = {name: param.value for name, param in nb.own_parameters.items()}
        found = parameters.order_problem(defaults, per_notebook[nb.name])
        if found:
            name, problem = found
            raise UsageError(
                f"-p {name} {raws[name]!r}: {problem} (the notebook's default is "
                f"{nb.own_parameters[name].default}) in notebook '{nb.name}'"
            )
    return per_notebook


def source_value_problem(param: Parameter, value: Any, source: Source) -> str | None:
    """What is wrong with a ``-p`` value on this source (event names, breakdowns), or None."""
    kind = param.spec.event
    if kind == "behaviour" and value == PURCHASES and not source.has("orders"):
        return (
            f"{PURCHASES!r} counts paid orders, and the source has no orders table "
            f"(expected {ACTIVE_DAYS} or an event name)"
        )
    # without events the sections using these are skipped in the notebook
    if kind is not None and value is not None and source.has("events"):
        if kind == "behaviour" and value in (ACTIVE_DAYS, PURCHASES):
            return None
        if kind == "paths":
            names = [step for path in value for step in path]
        elif kind == "exclusions":
            names = [rule["event"] for rule in value]
        else:
            names = value if kind == "steps" else [value]
        possible = sorted(source.possible_event_names())
        unknown = [n for n in names if n not in possible]
        if unknown:
            allowed = _listing(possible)
            if kind == "behaviour":
                allowed = f"{ACTIVE_DAYS}, {PURCHASES} or one of {allowed}"
            return (
                f"{unknown[0]!r} is not an event name of the source"
                f"{did_you_mean(str(unknown[0]), possible)} (expected {allowed})"
            )
    if param.name == BREAKDOWN and source.has("events"):
        options = breakdowns(source)
        if value not in options:
            return (
                f"{value!r} is not a breakdown of the source{did_you_mean(str(value), options)} "
                f"(expected an events column, 'category' with a products table, or a users "
                f"column: {', '.join(options)})"
            )
    return None


def exclusions_problem(nb: Notebook, given: dict[str, Any], source: Source) -> str | None:
    """What makes ``funnel_exclusions`` unusable with the notebook's funnel (the ``funnel_steps``
    given, else its default on this source): an exclusion naming a step's own event, or a step
    past the last. Caught here so the run stops before any notebook starts."""
    if STEPS not in nb.own_parameters or not source.has("events"):
        return None  # no funnel to check against; without events the section is skipped
    from lib import funnel  # lib.funnel pulls in scipy: only when needed

    steps = given.get(STEPS, nb.own_parameters[STEPS].value)
    return funnel.exclusion_problem(funnel.main_path(source, steps or None), given[EXCLUSIONS])


def breakdowns(source: Source) -> list[str]:
    """The values of ``breakdown`` that funnel.first_touch accepts on this source."""
    from lib.funnel import breakdowns  # lib.funnel pulls in scipy: only when needed

    return breakdowns(source.table("events"), source.optional("products"), source.optional("users"))


def check_source_values(
    pairs: list[list[str]],
    values: dict[str, dict[str, Any]],
    runnable: list[Notebook],
    source: Source,
) -> None:
    """Raise UsageError for the first ``-p`` value the source cannot serve."""
    for name, raw in pairs:
        for nb in runnable:
            if name not in values[nb.name]:
                continue
            param = nb.own_parameters[name]
            problem = source_value_problem(param, values[nb.name][name], source)
            if not problem and name == EXCLUSIONS:
                problem = exclusions_problem(nb, values[nb.name], source)
            if problem:
                raise UsageError(f"-p {name} {raw!r}: {problem} in notebook '{nb.name}'")
