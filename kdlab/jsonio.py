"""Strict JSON, written atomically: the one way kdlab writes and reads its JSON files (runs, claims, reference).

Why strict: ``NaN`` is not JSON (RFC 8259); jq, JavaScript and most readers reject it, so a value that does not exist
is written as null and a non-finite number is refused with its key path. Why atomic: a reader (the dashboard) must
never see half a file. A leaf module: every layer may import it, it imports nothing of kdlab.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from pathlib import Path
from typing import Any


def _json_default(obj: Any) -> Any:
    """Make numpy/torch scalars and arrays, paths and tuples JSON-serializable."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (Path, set)):
        return str(obj) if isinstance(obj, Path) else sorted(obj)
    return str(obj)


def _plain(obj: Any, where: str, seen: set[int]) -> Any:
    """``obj`` as plain JSON types (dict/list/str/int/float/bool/None); ValueError naming ``where`` for NaN/inf."""
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, float):  # includes numpy.float64
        if not math.isfinite(obj):
            name = "NaN" if obj != obj else ("inf" if obj > 0 else "-inf")
            raise ValueError(
                f"{where or 'the value'} is {name}; write None (JSON null) for a value that does not exist"
            )
        return float(obj)
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in seen:
            raise ValueError(f"{where or 'the value'} contains itself (circular reference)")
        seen.add(id(obj))
        try:
            if isinstance(obj, dict):
                out = {}
                for key, value in obj.items():
                    key = _plain_key(key, where)
                    out[key] = _plain(value, f"{where}.{key}" if where else str(key), seen)
                if len({type(key) for key in out}) > 1:  # e.g. 800 beside "note": sort_keys could not order them
                    out = {json.dumps(key) if not isinstance(key, str) else key: value for key, value in out.items()}
                return out
            return [_plain(value, f"{where}[{i}]", seen) for i, value in enumerate(obj)]
        finally:
            seen.discard(id(obj))
    converted = _json_default(obj)  # numpy/torch scalars and arrays, paths, sets → JSON types (or str)
    return _plain(converted, where, seen)


def _plain_key(key: Any, where: str) -> Any:
    """A dict key json accepts: str/int/bool/None as they are, numpy/torch scalars as Python numbers."""
    if key is None or isinstance(key, (str, bool, int)):
        return key
    if hasattr(key, "tolist"):
        key = key.tolist()
    if isinstance(key, float):
        if not math.isfinite(key):
            raise ValueError(f"{where or 'the object'} has the key {key!r}; JSON keys must be finite")
        return key
    return key if isinstance(key, (str, bool, int)) else str(key)


def to_strict_json(obj: Any) -> str:
    """Serialize ``obj`` as strict JSON (RFC 8259: no NaN/Infinity), the way the run store writes it.

    numpy/torch scalars and arrays become numbers and lists, paths strings, sets sorted lists. A non-finite float
    anywhere raises ``ValueError`` naming its key path, e.g. ``metrics.sweep_claims.800.high_t_spread is NaN``:
    jq, JavaScript and most JSON readers reject ``NaN``, so a value that does not exist must be written as None.
    """
    return json.dumps(_plain(obj, "", set()), indent=2, sort_keys=True, allow_nan=False)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write strict JSON via a temp file and ``os.replace`` so a reader never sees half a file.

    The object is serialized before anything is written: a NaN/inf (``ValueError`` naming the key path and the
    file) or an unserializable value leaves the previous file as it was and no temp file behind.
    """
    path = Path(path)
    try:
        text = to_strict_json(obj)
    except ValueError as e:
        raise ValueError(f"{path.name}: {e}") from None
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_json_object(path: Path) -> tuple[dict[str, Any] | None, str]:
    """(object, "") from a JSON file holding an object, or (None, a one-line problem); never raises."""
    if not path.exists():
        return None, f"{path.name} is missing"
    try:
        obj = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"{path.name} is not valid JSON ({type(e).__name__}: {str(e)[:80]})"
    if not isinstance(obj, dict):
        return None, f"{path.name} does not hold a JSON object"
    return obj, ""
