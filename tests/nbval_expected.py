"""Make nbval's output checks real for notebooks that are committed without outputs.

nbval only compares a cell whose committed copy has an execution count and outputs; a stripped notebook has
neither, so ``# NBVAL_CHECK_OUTPUT`` alone would compare nothing. The expected text outputs of those cells live in
``notebooks/expected_outputs.json`` instead (keyed by cell id, with a hash of the cell's source so a changed cell
cannot keep a stale expectation), and ``scripts/test.sh`` injects them into temporary copies that nbval runs.

    python tests/nbval_expected.py record RUN_DIR/notebook.ipynb ...   # from executed notebooks (kdlab run)
    python tests/nbval_expected.py inject OUT_DIR                      # copies notebooks/ with expectations
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = NOTEBOOKS / "expected_outputs.json"
MARKERS = ("# NBVAL_CHECK_OUTPUT", "#NBVAL_CHECK_OUTPUT")


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_check_cell(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and (
        any(m in _source(cell) for m in MARKERS) or "nbval-check-output" in cell.get("metadata", {}).get("tags", [])
    )


def source_hash(cell: dict) -> str:
    return hashlib.sha256(_source(cell).encode()).hexdigest()[:16]


def _text_outputs(outputs: list[dict]) -> list[dict]:
    """Keep what nbval compares and what is deterministic: streams and text/plain results."""
    kept: list[dict] = []
    for out in outputs:
        if out.get("output_type") == "stream":
            text = _source({"source": out["text"]})
            if kept and kept[-1]["output_type"] == "stream" and kept[-1]["name"] == out["name"]:
                kept[-1]["text"] += text  # one block per stream, as nbval coalesces them
            else:
                kept.append({"output_type": "stream", "name": out["name"], "text": text})
        elif out.get("output_type") in ("execute_result", "display_data") and "text/plain" in out.get("data", {}):
            if any(k.startswith("image/") for k in out["data"]):
                continue
            kept.append(
                {
                    "output_type": "execute_result",
                    "data": {"text/plain": _source({"source": out["data"]["text/plain"]})},
                    "metadata": {},
                    "execution_count": 1,
                }
            )
    return kept


def record(executed: list[Path]) -> dict:
    expected = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    for path in executed:
        nb = json.loads(Path(path).read_text())
        stem = nb.get("metadata", {}).get("papermill", {}).get("input_path")
        stem = Path(stem).stem if stem else Path(path).stem
        source_nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())
        ids = {c.get("id"): c for c in source_nb["cells"] if is_check_cell(c)}
        entry = {}
        for cell in nb["cells"]:
            if cell.get("id") in ids and is_check_cell(cell):
                entry[cell["id"]] = {
                    "source_sha": source_hash(ids[cell["id"]]),
                    "outputs": _text_outputs(cell.get("outputs", [])),
                }
        missing = set(ids) - set(entry)
        if missing:
            raise SystemExit(f"{path}: check cells {sorted(missing)} not found in the executed notebook")
        expected[stem] = entry
        print(f"recorded {len(entry)} check cell(s) of {stem}")
    EXPECTED.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return expected


def inject(out_dir: Path) -> list[Path]:
    """Copy every notebook to ``out_dir`` with the recorded outputs in its check cells; fail on stale ones."""
    expected = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    problems = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        entry = expected.get(path.stem, {})
        for cell in nb["cells"]:
            if not is_check_cell(cell):
                continue
            rec = entry.get(cell.get("id"))
            if rec is None or rec["source_sha"] != source_hash(cell):
                problems.append(
                    f"{path.name}: check cell {cell.get('id')} has no current expected output; "
                    f"re-record with `python tests/nbval_expected.py record <executed notebook>`"
                )
                continue
            cell["outputs"] = rec["outputs"]
            cell["execution_count"] = 1
        target = out_dir / path.name
        target.write_text(json.dumps(nb, indent=1))
        written.append(target)
    for extra in NOTEBOOKS.iterdir():  # anything a notebook reads beside itself
        if extra.is_file() and extra.suffix != ".ipynb":
            shutil.copy(extra, out_dir / extra.name)
    if problems:
        raise SystemExit("\n".join(problems))
    return written


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "record":
        record([Path(p) for p in sys.argv[2:]])
    elif len(sys.argv) == 3 and sys.argv[1] == "inject":
        for p in inject(Path(sys.argv[2])):
            print(p)
    else:
        raise SystemExit(__doc__)
