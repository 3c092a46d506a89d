"""The Claims page as a scoreboard (Streamlit AppTest, no browser): one row per claim with the paper's figure and a
cell per run column (reference first, then yours) holding the verdict as a text chip, the run's figure, margin and
noise with units; a tally per column that equals the claims files; filters; links to lesson pages and runs; schema-2
claims (``weaker``, seeds, spread) read when present; and every broken claims.json a warning, never a crash."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fixtures_runs, under any pytest import mode
from fixtures_runs import CLAIMS, CLAIMS_BROKEN, GOOD, build_store, write_claims, write_run  # noqa: E402

from dashboard import scoreboard  # noqa: E402
from kdlab.syllabus import PAGES  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
CELL = re.compile(r'<td data-claim="([^"]+)" data-run="([^"]+)" data-verdict="([^"]+)">(.*?)</td>')
EMOJI = re.compile("[\u2600-\u27bf\U0001f300-\U0001faff]")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    build_store(root)
    return root


def open_app(monkeypatch, root: Path):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KDLAB_RUNS", str(root))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def html(at) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def cells(at) -> dict[tuple[str, str], tuple[str, str]]:
    """(claim id, run column) -> (verdict, cell HTML) from the scoreboard's run cells."""
    return {(c, r): (v, body) for c, r, v, body in CELL.findall(html(at))}


def test_scoreboard_rows_and_tally_equal_the_claims_files(monkeypatch, store):
    at = open_app(monkeypatch, store)
    assert at.title[0].value == "Claims"
    got = cells(at)
    # yours · quick: the newest complete quick run of each notebook (03's is the newer run missing artifacts)
    expected = {c["id"]: c for name in ("01", "02", "03_quick", "04", "05", "06") for c in CLAIMS[name]}
    quick = {cid: v for (cid, col), (v, _) in got.items() if col == "yours · quick"}
    assert quick == {cid: "holds" if c["holds"] else "does not hold" for cid, c in expected.items()}
    full = {cid: v for (cid, col), (v, _) in got.items() if col == "yours · full"}
    assert full == {c["id"]: "holds" for c in CLAIMS["03_full"]}
    text = html(at)
    held = sum(c["holds"] for c in expected.values())
    assert f"**yours · quick**: {held} hold, 0 weaker, {len(expected) - held} do not hold" in text
    assert "**yours · full**: 3 hold, 0 weaker, 0 do not hold" in text
    # a claim only the full run tests says so in the quick column
    assert 'data-run="yours · quick"><small>not tested in this run' in text
    # margin and noise with their units (the fixtures write schema 2 through Claims: one seed), U+2212 for minus
    verdict, body = got[("03.distilled_near_teacher", "yours · quick")]
    assert verdict == "does not hold" and "margin \u22124.4 errors · noise 7.2 errors · 1 seed" in body
    assert "margin +70 errors · noise 9.5 errors" in got[("03.distilled_beats_baseline", "yours · quick")][1]
    assert "margin +0.5 " in got[("03.sweep_mid_t_best_30", "yours · full")][1]
    # the verdict is a text chip, never an emoji; no heading repeats the notebook's folder name
    assert not EMOJI.search(text)
    assert "01 · 01_softmax_temperature" not in text and "03 · Distillation &amp; sweeps" in text


def test_scoreboard_links_each_row_to_its_lesson_page_and_run(monkeypatch, store):
    at = open_app(monkeypatch, store)
    text = html(at)
    for page in PAGES.values():
        assert f'href="./{Path(page).stem}"' in text
    assert f'href="./runs?run={GOOD["03_full"]}"' in text
    # the statement and the rule that judged it open below the claim's short title (and are its tooltip)
    assert "<summary>distilled beats baseline</summary>" in text
    assert "judged by: difference &gt; 2 × McNemar noise" in text


def test_scoreboard_filters(monkeypatch, store):
    at = open_app(monkeypatch, store)
    at.pills(key="claims_verdict").set_value(["does not hold"]).run()
    assert {cid for cid, _ in cells(at)} == {"03.distilled_near_teacher"}
    at.pills(key="claims_verdict").set_value(list(scoreboard.VERDICTS)).run()
    at.pills(key="claims_nb").set_value(["04"]).run()
    assert {cid for cid, _ in cells(at)} == {"04.bias_recovers_3s"}
    at.pills(key="claims_nb").set_value(["03"]).run()
    at.pills(key="claims_profile").set_value(["full"]).run()
    assert {col for _, col in cells(at)} == {"yours · full"}
    assert not at.exception


def test_broken_claims_files_warn_and_the_page_goes_on(monkeypatch, store):
    at = open_app(monkeypatch, store)
    warnings = "\n".join(w.value for w in at.warning)
    for _name, (nb, run_id, profile) in CLAIMS_BROKEN.items():
        assert f"run {nb}/{run_id} (profile {profile})" in warnings
    assert "claims.json is missing" in warnings and "not valid JSON" in warnings
    assert "unknown schema 'kdlab.claims/99'" in warnings
    assert "yours · paper" not in {col for _, col in cells(at)}  # its only run's claims are unreadable


def test_claims_of_another_notebook_are_refused(monkeypatch, tmp_path):
    folder = write_run(tmp_path, "05_speech_frames", "20261201-000000-stray1")
    write_claims(folder, "04_missing_class_bias", "quick", CLAIMS["04"])  # a 04 claims.json in a 05 run
    at = open_app(monkeypatch, tmp_path)
    assert "of another notebook: 04.bias_recovers_3s" in "\n".join(w.value for w in at.warning)
    assert not cells(at)


def test_verdict_follows_the_file(monkeypatch, tmp_path):
    """The same run's claim rewritten with holds false reads "does not hold" at once (no stale cache)."""
    claim = {**CLAIMS["03_quick"][0]}
    folder = write_run(tmp_path, "03_mnist_distillation", "20261201-000000-flip01", claims=[claim])
    at = open_app(monkeypatch, tmp_path)
    assert cells(at)[("03.distilled_beats_baseline", "yours · quick")][0] == "holds"
    write_claims(folder, "03_mnist_distillation", "quick", [{**claim, "holds": False, "margin": -3.0}])
    at.run()
    assert cells(at)[("03.distilled_beats_baseline", "yours · quick")][0] == "does not hold"
    assert "**yours · quick**: 0 hold, 0 weaker, 1 do not hold" in html(at)
    infos = "\n".join(i.value for i in at.info)
    assert all(f"kdlab run {nb} --profile quick" in infos for nb in ("01", "02", "04", "05", "06"))


def test_schema_2_claims_show_three_verdicts_seeds_and_units(monkeypatch, tmp_path):
    """A kdlab.claims/2 file (verdict, paper_figure, ours as a mean, spread, seeds, noise with its unit, control)."""
    folder = write_run(tmp_path, "03_mnist_distillation", "20261201-000000-schem2", params={"PROFILE": "full"})
    item = {
        "id": "03.distilled_closes_gap",
        "section": "§3",
        "statement": "The distilled net closes most of the gap.",
        "paper": "91% of the gap",
        "paper_figure": {"value": 91, "unit": "% of the gap"},
        "ours": {"value": 83.3, "unit": "% of the gap"},
        "spread": [79.0, 86.0],
        "seeds": 3,
        "verdict": "weaker",
        "holds": True,
        "margin": {"value": -7.7, "unit": "points"},
        "noise": {"value": 2.1, "unit": "points", "how": "seed spread"},
        "control": "matched baseline: 150 errors",
        "judged_by": "reaches the paper's 91 % or its seed range does",
    }
    other = {**item, "id": "03.teacher_beats_distilled", "verdict": "does not hold", "holds": False}
    (folder / "claims.json").write_text(json.dumps({"schema": "kdlab.claims/2", "claims": [item, other]}))
    at = open_app(monkeypatch, tmp_path)
    got = cells(at)
    verdict, body = got[("03.distilled_closes_gap", "yours · full")]
    assert verdict == "weaker"
    assert "83.3 % of the gap" in body and "3 seeds, range 79–86 % of the gap" in body
    assert "margin \u22127.7 points · noise 2.1 points (seed spread)" in body and "schema 1" not in body
    assert "control: matched baseline: 150 errors" in body
    assert "**yours · full**: 0 hold, 1 weaker, 1 do not hold" in html(at)
    assert "91 % of the gap" in html(at)


def test_units_of_schema_1_margins():
    """Read from the claim's own wording: the rule's '(11.0 errors)', the figure's unit, fractions shown ×100."""
    assert scoreboard.unit_of({"judged_by": "the difference must exceed 2 × noise (11.0 errors)"}) == ("errors", 1)
    assert scoreboard.unit_of({"ours": "0.10 → 3.25 bits", "judged_by": "entropy at least doubles"}) == ("bits", 1)
    share = {"ours": "83% of the gap", "judged_by": "at least half of the gap closed", "margin": 0.33}
    assert scoreboard.unit_of(share) == ("points", 100.0)
    assert scoreboard.signed(0.33, "points", 100.0) == "+33 points"
    assert scoreboard.signed(-4.4, "errors", 1.0) == "\u22124.4 errors"
    assert scoreboard.tally_text({"holds": 2, "weaker": 1, "does not hold": 0}) == "2 hold, 1 weaker, 0 do not hold"


def test_a_claim_as_the_notebooks_write_it_reads_with_its_verdict_noise_source_and_seeds():
    """The scoreboard reads what ``kdlab.claim_record`` writes (not only hand-made JSON): a ``weaker`` claim over
    three seeds shows its verdict, the paper's figure and ours with the unit, and which noise decided."""
    from dashboard.scoreboard import row
    from kdlab.claim_record import Claims

    claims = Claims("03_mnist_distillation")
    claims.add(
        id="03.distilled_closes_gap",
        section="§3",
        statement="Distillation recovers most of the gap.",
        paper="91% of the gap",
        result="83% of the gap",
        verdict="weaker",
        paper_figure=91.1,
        ours=83.1,
        unit="% of the gap",
        spread=[80.0, 86.0],
        seeds=3,
        noise=10.0,
        noise_source="seed spread",
        margin=53.1,
        judged_by="the share closed must exceed 3 × noise",
    )
    (item,) = json.loads(json.dumps(claims.to_json("full", 0)))["claims"]
    v = row(item, 2)
    assert v.verdict == "weaker" and v.paper == "91.1 % of the gap" and v.ours == "83.1 % of the gap"
    assert v.noise == "10 % of the gap (seed spread)" and v.seeds.startswith("3 seeds, range 80–86")
