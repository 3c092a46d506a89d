"""A notebook's parameters, checked before ``kdlab run`` creates anything: names, profile and types.

The notebook's ``parameters`` cell (papermill's tag) is the contract: its names are the only ones ``-p`` may set,
and each default's literal type is the type a value must have (``SEED = 0`` takes an integer, ``HIGH_T = 20.0`` a
number, ``REUSE_TEACHER = True`` True or False, ``DEVICE = "auto"`` text). A value of the wrong type would otherwise
be injected as it is and fail cells later (``-p SEED abc`` once died with "TypeError: not all arguments converted
during string formatting" after the run folder existed); here it is one line naming the parameter, the type and the
value, before any folder is made.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

PROFILES = ("quick", "full", "paper")

# The type of a default → how the error message names it.
_TYPE_WORDS = {bool: "True or False", int: "an integer", float: "a number", str: "text", list: "a JSON list"}


def notebook_parameters(path: Path) -> dict[str, Any]:
    """Names and defaults (as Python values, where the default is a literal) of the notebook's ``parameters`` cell."""
    import papermill

    found = papermill.inspect_notebook(str(path))
    if not found:
        raise ValueError(f"{path.name} has no cell tagged 'parameters'; papermill cannot set its parameters")
    return {name: _literal(info.get("default")) for name, info in found.items()}


def _literal(source: Any) -> Any:
    """``'20.0'`` → 20.0, ``'"auto"'`` → 'auto'; a default that is not a literal stays None (any value accepted)."""
    if not isinstance(source, str):
        return source
    try:
        return ast.literal_eval(source.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def parse_value(text: str) -> Any:
    """Type a command-line value the way papermill's ``-p`` does: bool, int, float, None, else string."""
    lowered = text.strip()
    if lowered in ("True", "true"):
        return True
    if lowered in ("False", "false"):
        return False
    if lowered in ("None", "none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(lowered)
        except ValueError:
            pass
    try:
        value = json.loads(lowered)
        if isinstance(value, (list, dict)):
            return value
    except json.JSONDecodeError:
        pass
    return text


def parse_for(default: Any, text: str) -> Any:
    """A ``-p`` value typed like the parameter's default: text stays text where the default is a string
    (``-p DEVICE 0`` is the device "0", not the number), otherwise ``parse_value``."""
    return text if isinstance(default, str) else parse_value(text)


def expected_type(default: Any) -> type | None:
    """The type a parameter's values must have, from its default; None where any value goes (a None default)."""
    if default is None:
        return None
    if isinstance(default, tuple):
        return list
    return type(default) if type(default) in _TYPE_WORDS else None


def type_problem(notebook: str, name: str, default: Any, value: Any) -> str:
    """Empty if ``value`` fits the parameter's type, else one line: the parameter, the type it takes and the value."""
    want = expected_type(default)
    if want is None:
        return ""
    is_bool = isinstance(value, bool)
    fits = {
        bool: is_bool,
        int: isinstance(value, int) and not is_bool,
        float: isinstance(value, (int, float)) and not is_bool,
        str: isinstance(value, str),
        list: isinstance(value, (list, tuple)),
    }[want]
    if fits:
        return ""
    example = {bool: "True", int: "1", float: "2.5", str: "cpu", list: "[1, 2]"}[want]
    return (
        f"parameter {name} of {notebook} takes {_TYPE_WORDS[want]} (its default is {default!r}), not {value!r}; "
        f"e.g. -p {name} {example}"
    )


def typed_overrides(path: Path, pairs: list[tuple[str, str]] | dict[str, str]) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs of the command line, each typed like its default in ``path``'s parameters cell
    (unknown names pass through untyped; ``validate`` refuses them)."""
    known = notebook_parameters(path)
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return {name: parse_for(known[name], text) if name in known else parse_value(text) for name, text in items}


def validate(path: Path, profile: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Check profile, parameter names and value types against the notebook; returns the parameters to inject.

    Raises ``ValueError`` with one line saying what to change; nothing has been written when it does.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    known = notebook_parameters(path)
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ValueError(
            f"{path.name} has no parameter {', '.join(unknown)}; valid parameters: {', '.join(sorted(known))}"
        )
    if "PROFILE" not in known:
        raise ValueError(f'{path.name}\'s parameters cell defines no PROFILE; add PROFILE = "quick" to it')
    for name, value in overrides.items():
        problem = type_problem(path.stem, name, known[name], value)
        if problem:
            raise ValueError(problem)
    typed = {k: float(v) if isinstance(known[k], float) and isinstance(v, int) else v for k, v in overrides.items()}
    return {"PROFILE": profile, **typed}
