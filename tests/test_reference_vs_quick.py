"""The default run teaches: every claim the published full-profile reference finds in the paper's direction
(``holds`` or ``weaker``: beyond noise, the derived ``holds`` field) holds in the quick profile too, in the paper's
direction (issue 25, item 8). The quick profile is small: it may fall short of the paper's figure (``weaker``) where
the full profile reaches it, but it may not lose the effect (``does not hold``) or leave the claim out.

The quick verdicts are the ones CI checks: each notebook's last cell (``claims.summary()``: ``id: verdict`` lines) as
recorded in ``notebooks/expected_outputs.json`` and compared by nbval. The full verdicts are ``reference/``'s
schema-2 ``claims.json`` files (a schema-1 run has no three-level verdict and is skipped until it is republished).
"""

import json
from pathlib import Path

from kdlab.store.reference import reference_runs

ROOT = Path(__file__).resolve().parents[1]


def quick_verdicts(expected: dict) -> dict[str, str]:
    """{claim id: verdict} from the recorded outputs of every notebook's checked cells."""
    out = {}
    for cells in expected.values():
        for cell in cells.values():
            for output in cell.get("outputs", []):
                for line in output.get("text", "").splitlines():
                    cid, sep, verdict = line.partition(": ")
                    if sep and cid[:3] in {f"0{n}." for n in range(1, 10)} and " " not in cid:
                        out[cid] = verdict.strip()
    return out


IN_DIRECTION = {"holds", "weaker"}


def full_holds(root: Path) -> set[str]:
    """Ids of the claims a published full-profile run (schema 2) finds in the paper's direction."""
    held = set()
    for run in reference_runs(root):
        if run.profile != "full" or not run.ok:
            continue
        data = json.loads((run.path / "claims.json").read_text())
        if data.get("schema") != "kdlab.claims/2":
            continue
        held |= {c["id"] for c in data["claims"] if c.get("verdict") in IN_DIRECTION}
    return held


def not_in_quick(root: Path, expected: dict) -> list[str]:
    quick = quick_verdicts(expected)
    return sorted(f"{cid}: full in the paper's direction, quick {quick.get(cid, 'absent')}" for cid in full_holds(root)
                  if quick.get(cid) not in IN_DIRECTION)  # fmt: skip


def test_every_claim_that_holds_in_full_holds_in_quick():
    expected = json.loads((ROOT / "notebooks" / "expected_outputs.json").read_text())
    assert quick_verdicts(expected), "no quick verdicts recorded"
    assert not_in_quick(ROOT / "reference", expected) == []


def test_the_check_can_fail(tmp_path):
    run = tmp_path / "01_softmax_temperature" / "20260101-000000-abcdef"
    run.mkdir(parents=True)
    (run / "params.json").write_text(json.dumps({"notebook": run.parent.name, "params": {"PROFILE": "full"}}))
    (run / "env.json").write_text("{}")
    (run / "metrics.json").write_text("{}")
    (run / "COMPLETE").write_text("")
    claims = [{"id": "01.a", "verdict": "holds"}, {"id": "01.b", "verdict": "weaker"},
              {"id": "01.c", "verdict": "does not hold"}]  # fmt: skip
    (run / "claims.json").write_text(json.dumps({"schema": "kdlab.claims/2", "claims": claims}))
    expected = {"01": {"20": {"outputs": [{"text": "01.a: does not hold\n01.c: does not hold\n"}]}}}
    assert not_in_quick(tmp_path, expected) == [
        "01.a: full in the paper's direction, quick does not hold",
        "01.b: full in the paper's direction, quick absent",
    ]
    expected["01"]["20"]["outputs"][0]["text"] = "01.a: weaker\n01.b: holds\n"
    assert not_in_quick(tmp_path, expected) == []
