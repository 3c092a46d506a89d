"""Dashboard pages under Streamlit's AppTest (no browser): every page (Claims, one per lesson 01–06, Runs) against a
fixture store with good runs and every kind of broken run (and of broken claims.json), an empty store, malformed
artifacts inside complete runs (one warning line naming the notebook and the command that writes the artifact), and
an unexpected exception; the numbers in the paper's units beside the paper's."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fixtures_runs, under any pytest import mode
from fixtures_runs import (  # noqa: E402
    BROKEN,
    CLAIMS,
    FAILED_REASON,
    GOOD,
    build_store,
    good_artifacts,
    write_run,
)

from kdlab.syllabus import PAGES, STEMS  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "dashboard" / "app.py")
CLAIMS_PAGE, RUNS = "views/claims.py", "views/runs.py"
LESSONS = PAGES  # notebook -> its page (kdlab.syllabus)
PAGES = [CLAIMS_PAGE, RUNS, *LESSONS.values()]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    build_store(root)
    return root


def open_app(monkeypatch, root: Path, page: str | None = None):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KDLAB_RUNS", str(root))
    at = AppTest.from_file(APP, default_timeout=30)
    if page and page != PAGES[0]:
        at.switch_page(page)  # before the first run: the app runs once, straight on that page
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


# ----------------------------------------------------------------------------------------------- Runs


def test_runs_page_lists_every_run_with_its_status_and_reason(monkeypatch, store):
    at = open_app(monkeypatch, store, RUNS)
    assert "**yours: 17** (11 complete) · **reference: 0** run folders" in texts(at.markdown)
    table = at.dataframe[0].value
    assert len(table) == 17
    status = dict(zip(table["run"], table["status"], strict=True))
    reason = dict(zip(table["run"], table["why not a result"], strict=True))
    assert status[GOOD["03_full"]] == "complete" and reason[GOOD["03_full"]] == ""
    assert status[GOOD["01"]] == "complete"  # entropy_vs_t.png beside entropy_vs_t.csv hides nothing
    assert status[BROKEN["failed"][1]] == "failed"
    assert reason[BROKEN["failed"][1]] == f"failed after 42 s: {FAILED_REASON}"  # why, and how long it ran
    assert (
        status[BROKEN["half_written"][1]] == "incomplete" and "no COMPLETE marker" in reason[BROKEN["half_written"][1]]
    )
    assert status[BROKEN["staging"][1]] == "incomplete" and "still running" in reason[BROKEN["staging"][1]]
    assert status[BROKEN["empty"][1]] == "invalid" and reason[BROKEN["empty"][1]] == "empty run folder"
    assert "params.json is not valid JSON" in reason[BROKEN["malformed_json"][1]]
    assert "unknown schema version 99" in reason[BROKEN["unknown_schema"][1]]
    assert status[BROKEN["missing_artifact"][1]] == "complete, 2 missing"
    assert reason[BROKEN["missing_artifact"][1]] == "missing sweep.csv, soft_targets.npz"
    # the same reasons as one-line messages below the table
    messages = texts(at.error) + texts(at.warning)
    for needle in (
        FAILED_REASON,
        "empty run folder",
        "unknown schema version 99",
        "not valid JSON",
        "no COMPLETE marker",
        "missing sweep.csv",
    ):
        assert needle in messages
    quick = table.loc[table["run"] == GOOD["03_quick"]].iloc[0]
    assert quick["device"] == "cpu" and quick["ran for"] == "42 s" and quick["profile"] == "quick"
    assert "teacher_errors=70" in quick["headline metrics"]


def test_runs_page_filters_by_notebook_and_profile(monkeypatch, store):
    at = open_app(monkeypatch, store, RUNS)
    at.multiselect(key="filter_notebook").set_value(["03_mnist_distillation"]).run()
    assert set(at.dataframe[0].value["notebook"]) == {"03"}
    at.multiselect(key="filter_profile").set_value(["full"]).run()
    assert not at.exception
    assert list(at.dataframe[0].value["run"]) == [GOOD["03_full"]]


def test_runs_page_compares_two_runs(monkeypatch, store):
    at = open_app(monkeypatch, store, RUNS)
    labels = at.selectbox(key="compare_a").options
    quick = next(label for label in labels if GOOD["03_quick"] in label)
    full = next(label for label in labels if GOOD["03_full"] in label)
    at.selectbox(key="compare_a").set_value(quick).run()
    assert all(o.startswith("03 ·") for o in at.selectbox(key="compare_b").options)  # B: the same notebook
    at.selectbox(key="compare_b").set_value(full).run()
    assert not at.exception
    diff = at.table[0].value
    assert {"PROFILE", "EPOCHS"} <= set(diff.index)
    assert diff.loc["PROFILE", "A"] == "quick" and diff.loc["PROFILE", "B"] == "full"
    assert diff.loc["EPOCHS", "A"] == "3" and diff.loc["EPOCHS", "B"] == "30"
    metrics = at.table[-1].value
    assert metrics.loc["teacher_errors", "B − A"] == "0"
    assert any(GOOD["03_full"] in c.value and "profile **full**" in c.value for c in at.caption)


def test_runs_page_selects_the_run_in_its_link(monkeypatch, store):
    """``/runs?run=<id>`` (the Claims page's links): that run in a box, preselected as run A of the comparison."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KDLAB_RUNS", str(store))
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page(RUNS)
    at.query_params["run"] = GOOD["03_full"]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"**Selected run** `03_mnist_distillation/{GOOD['03_full']}` — **complete**" in texts(at.markdown)
    captions = texts(at.caption)
    assert "Claims: 3 of 3 hold" in captions and "· ran for 15 min 00 s" in captions  # its wall_time_s: 900
    assert f"Folder: `03_mnist_distillation/{GOOD['03_full']}` in your store (`{store.resolve()}`)" in captions
    assert GOOD["03_full"] in at.selectbox(key="compare_a").value
    assert GOOD["03_full"] not in at.selectbox(key="compare_b").value
    at.query_params["run"] = "20000101-000000-nosuch"
    at.run()
    assert not at.exception and "No run `20000101-000000-nosuch` in this store" in texts(at.warning)


# ----------------------------------------------------------------------------------------------- Claims


# the scoreboard's own tests: tests/test_dashboard_claims.py


# ----------------------------------------------------------------------------------------------- Lesson pages


def metric_values(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def tables_with(at, column: str) -> list[pd.DataFrame]:
    """The st.table frames that have ``column`` (as a column or as the index name)."""
    return [t.value for t in at.table if column in t.value.columns or t.value.index.name == column]


def charts_of(at) -> list[dict]:
    """The Vega-Lite specs of the page's Altair charts."""
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def series(run_id: str, profile: str = "quick", origin: str = "yours") -> str:
    """The name a run carries in pickers and legends (dashboard/overlay.py): ``yours · quick · 2026-11-02 10:00``."""
    r = run_id
    return f"{origin} · {profile} · {r[:4]}-{r[4:6]}-{r[6:8]} {r[9:11]}:{r[11:13]}"


CELL = re.compile(r'<td data-claim="([^"]+)" data-run="([^"]+)" data-verdict="([^"]+)">')


def verdicts(at) -> dict[tuple[str, str], str]:
    """(claim id, run column) -> verdict, from the claims table(s) of a page (dashboard/board.py)."""
    return {(c, r): v for m in at.markdown for c, r, v in CELL.findall(str(m.value))}


def pick(at, key: str, run_id: str, profile: str = "quick"):
    """Draw only the run ``run_id`` (multiselect ``key``) and rerun."""
    box = at.multiselect(key=key)  # a run of another notebook than the page's carries " · notebook NN"
    box.set_value([next(o for o in box.options if o.startswith(series(run_id, profile)))]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("nb,page", list(LESSONS.items()))
def test_every_lesson_page_opens_with_its_two_sentences(monkeypatch, store, nb, page):
    """Title ``NN · ...``, what the lesson shows and the paper's figure it is compared with; numbers from a run."""
    at = open_app(monkeypatch, store, page)
    assert at.title[0].value.startswith(f"{nb} · ")
    intro = at.markdown[0].value
    assert intro.count(". ") + intro.count(".) ") >= 1 and ("compared with" in intro or "paper" in intro)
    assert not at.error
    assert any("profile **" in c.value for c in at.caption)  # every page shows which run its numbers come from


def test_soft_targets_slider_changes_the_numbers(monkeypatch, store):
    at = pick(open_app(monkeypatch, store, LESSONS["01"]), "soft_runs", GOOD["03_quick"])
    cold = metric_values(at)
    assert cold["teacher p(label 3) at T=1"] == "1.0000"
    at.select_slider(key="temperature").set_value(20.0).run()
    assert not at.exception
    hot = metric_values(at)
    assert "teacher p(label 3) at T=20" in hot
    assert float(hot["teacher p(label 3) at T=20"]) < 0.5
    assert float(hot["teacher entropy (bits)"]) > float(cold["teacher entropy (bits)"]) + 1
    assert hot["student entropy (bits)"] != cold["student entropy (bits)"]
    assert any("profile **quick**" in c.value and GOOD["03_quick"] in c.value for c in at.caption)


def test_soft_targets_numbers_follow_eq1(monkeypatch, store):
    """The shown probability is eq. 1 applied to the saved logits (independent recomputation)."""
    at = pick(open_app(monkeypatch, store, LESSONS["01"]), "soft_runs", GOOD["03_quick"])
    at.selectbox(key="image").set_value(2)
    at.select_slider(key="temperature").set_value(5.0).run()
    z = np.load(store / "03_mnist_distillation" / GOOD["03_quick"] / "artifacts" / "soft_targets.npz")
    logits, label = z["teacher_logits"][2].astype(float), int(z["labels"][2])
    q = np.exp(logits / 5.0) / np.exp(logits / 5.0).sum()
    assert metric_values(at)[f"teacher p(label {label}) at T=5"] == f"{q[label]:.4f}"


def test_soft_targets_default_to_lesson_01_which_has_no_student(monkeypatch, store):
    at = open_app(monkeypatch, store, LESSONS["01"])
    picker = at.multiselect(key="soft_runs")
    assert series(BROKEN["missing_artifact"][1]) not in picker.options  # no soft_targets.npz: not offered
    assert series(BROKEN["half_written"][1]) not in picker.options  # not complete
    assert picker.value[0] == series(GOOD["01"])  # the lesson's own run first
    assert metric_values(at)["student"] == "not saved"
    assert any("skipped here" in c.value for c in at.caption)
    # notebook 01's claims and its tail-weight curve (an artifact beyond the contract) are on its page
    assert verdicts(at) == {("01.entropy_rises_with_t", series(GOOD["01"])): "holds"}
    assert any("softer as T grows" in str(m.value) for m in at.markdown)
    assert any("weight of the classes with p < 0.001" in json.dumps(spec) for spec in charts_of(at))


def test_soft_targets_show_the_papers_2_beside_ours(monkeypatch, store):
    """§1's 2 (p(3) = 1e-6, p(7) = 1e-9) in a table beside the run's saved 2s, and as bars at T = 1 on a 2."""
    at = open_app(monkeypatch, store, LESSONS["01"])
    example = tables_with(at, "p(3) at T = 1")[0]
    paper_row = example.iloc[0]
    assert (
        paper_row[""] == "paper (§1): a 2"
        and paper_row["p(3) at T = 1"] == "1e-06"
        and paper_row["p(7) at T = 1"] == "1e-09"
    )
    assert "1000× (a 3 rather than a 7)" == paper_row["p(3) / p(7)"]
    assert all(r.startswith("ours: test image") for r in example[""].iloc[1:]) and len(example) >= 2
    at.selectbox(key="image").set_value(1).run()  # the fixture's image 1 is a 2
    assert "the paper's 2" in json.dumps(charts_of(at)[0])  # its bars beside ours (colour scale of the chart)
    at.select_slider(key="temperature").set_value(5.0).run()
    assert "the paper's 2" not in json.dumps(charts_of(at)[0])  # the paper's numbers are at T = 1 only


def test_charts_are_interactive_with_tooltips(monkeypatch, store):
    """Errors against T per width, bias scans, learning curves: Altair charts with tooltips and zoom."""
    for page in (LESSONS["03"], LESSONS["04"], LESSONS["05"], LESSONS["02"]):
        at = open_app(monkeypatch, store, page)
        specs = charts_of(at)
        assert specs, page
        text = json.dumps(specs)
        assert '"tooltip"' in text and '"bind": "scales"' in text, page


def test_logit_matching_page(monkeypatch, store):
    at = open_app(monkeypatch, store, LESSONS["02"])
    within = tables_with(at, "eq. 4 within the level from")[0].set_index("logits")
    assert within.loc["zero-meaned logits", "eq. 4 within the level from"] == "T = 10"
    assert within.loc["logits as the nets output them", "eq. 4 within the level from"] == "T = 20"
    assert within.loc["teacher logits shifted by +5", "eq. 4 within the level from"] == "never (up to T = 50)"
    assert within.loc["zero-meaned logits", "paper (§2.1)"] == "→ 0 as T → ∞"
    conv = tables_with(at, "student")[0].set_index("student")
    assert conv.loc["T = 1", "agrees with the logit-matching student"] == "97.0 %"
    assert conv.loc["logit matching (the limit)", "test errors (of 10,000)"] == 92
    assert set(conv["run"]) == {series(GOOD["02"])}
    got = verdicts(at)
    assert len(got) == 2 and set(got.values()) == {"holds"}
    assert any(GOOD["02"] in c.value for c in at.caption)


def test_distillation_page_results_sweep_and_claims_in_words(monkeypatch, store):
    at = open_app(monkeypatch, store, LESSONS["03"])
    chosen = at.multiselect(key="sweep_runs").value
    assert len(chosen) == 2 and any("full" in c for c in chosen) and any("quick" in c for c in chosen)
    results = tables_with(at, "model")[0]
    assert list(results.index) == ["teacher", "baseline", "distilled"]
    assert list(results["paper (§3)"]) == [67, 146, 74]
    assert list(results[series(GOOD["03_quick"])]) == [70, 150, 80]
    sweep = tables_with(at, "this run, in words")[0]
    narrow = sweep[sweep["width"] == 30]
    assert set(narrow["paper (§3)"]) == {"T in 2.5–4 significantly better"}
    assert all(w.startswith("best T = ") and "inside 2.5–4" in w for w in narrow["this run, in words"])
    wide = sweep[sweep["width"] == 800].iloc[0]
    assert "apart over T = 8, 10, 15, 20 (2 seeds)" in wide["this run, in words"]
    said = dict(zip(narrow["run"], narrow["run's verdict"], strict=True))
    assert said[series(GOOD["03_full"], "full")] == "holds"  # from the run's claims.json
    assert said[series(GOOD["03_quick"])] == "no claim recorded"
    assert not any("spread 0" in str(v) for v in sweep.to_numpy().ravel())
    assert any(link.proto.page == "missing_classes" for link in at.page_link)  # 04's scans have their own page
    captions = texts(at.caption)
    assert "profile **full**" in captions and "profile **quick**" in captions


def test_sweep_with_one_temperature_above_8_says_not_testable(monkeypatch, tmp_path):
    """A sweep with a single T ≥ 8: the paper's 'all T above 8 similar' is not testable there, said in words."""
    rng = np.random.default_rng(3)
    arts = good_artifacts("03", rng)
    sweep = arts["sweep.csv"]
    arts["sweep.csv"] = sweep[sweep["temperature"].isin([1.0, 2.0, 4.0, 20.0])]
    write_run(tmp_path, "03_mnist_distillation", "20261201-000000-onehot", artifacts=arts)
    at = open_app(monkeypatch, tmp_path, LESSONS["03"])
    words = tables_with(at, "this run, in words")[0].set_index("width")["this run, in words"]
    assert words.loc[800] == "not testable in this run: only T = 20 at 8 or above"
    assert words.loc[300] == "not testable in this run: only T = 20 at 8 or above"
    assert words.loc[30].startswith("best T = ")


def test_distillation_page_shows_the_s2_experiments_or_says_the_run_predates_them(monkeypatch, tmp_path):
    """Notebook 03's §2 tables (hard-target weight, 1 % transfer set) and the matched baseline; an older run without
    them still renders, saying what is missing."""
    rng = np.random.default_rng(5)
    write_run(tmp_path, "03_mnist_distillation", "20261201-000000-olders2", artifacts=good_artifacts("03", rng))
    at = open_app(monkeypatch, tmp_path, LESSONS["03"])
    assert "predates these experiments (no `hard_weight_sweep.csv` or `small_transfer.csv`)" in texts(at.caption)
    arts = good_artifacts("03", rng)
    arts["hard_weight_sweep.csv"] = pd.DataFrame(
        {"hard_weight": [0.0, 0.1, 1.0], "seed": 0, "val_errors": [300, 250, 320], "test_errors": [310, 240, 330]}
    )
    arts["small_transfer.csv"] = pd.DataFrame({"targets": ["soft", "soft", "hard", "hard"], "lr": [0.03, 0.3] * 2,
        "seed": 0, "val_errors": [900, 800, 1000, None], "test_errors": [950, 820, 1100, None]})  # fmt: skip
    metrics = {"matched_baseline_errors": 520, "baseline_errors": 600, "matched_best_epoch": 7,
               "validation_errors": {"baseline": 700, "matched": 610}, "validation_cases": 5000}  # fmt: skip
    write_run(tmp_path, "03_mnist_distillation", "20261202-000000-news2", artifacts=arts, metrics=metrics)
    at = open_app(monkeypatch, tmp_path, LESSONS["03"])
    weights = tables_with(at, "hard_weight")[0]
    assert list(weights["test_errors"]) == [310, 240, 330]
    lrs = tables_with(at, "lr")[0]
    assert lrs.loc[0.3, ("test_errors", "hard")] == "diverged" and lrs.loc[0.3, ("test_errors", "soft")] == 820
    assert "stopped at validation epoch 7): 520 test errors against the plain baseline's 600" in texts(at.markdown)


def test_missing_classes_page_beside_the_paper(monkeypatch, store):
    at = open_app(monkeypatch, store, LESSONS["04"])
    table = tables_with(at, "paper (§3)")[0].set_index("")
    ours = f"ours: {series(GOOD['04'])}"
    assert table.loc["no 3s · test errors before the shift", "paper (§3)"] == "206"
    assert table.loc["no 3s · test errors before the shift", ours] == "213"  # fixture: 133 + 10 on 3s, 70 others
    assert table.loc["no 3s · shift chosen on held-out training cases (validation)", ours] == "+3"
    assert table.loc["only 7s and 8s · test error rate before", "paper (§3)"] == "47.3 %"
    assert table.loc["only 7s and 8s · test error rate before", ours].endswith(" %")
    assert len(charts_of(at)) == 3  # the two no-3 scans and the 7s-and-8s scan
    assert verdicts(at) == {("04.bias_recovers_3s", series(GOOD["04"])): "holds"}
    assert any("133 → 14 errors on 3s" in str(m.value) for m in at.markdown)
    captions = texts(at.caption)
    assert GOOD["04"] in captions and "profile **quick**" in captions


def test_speech_page_tables_in_percent_beside_the_paper(monkeypatch, store):
    at = open_app(monkeypatch, store, LESSONS["05"])
    assert metric_values(at)["gain kept, seen speakers"] == "86%"
    assert metric_values(at)["gain kept, paper (Table 1)"] == "86%"
    t1 = tables_with(at, "chosen on validation")[0].set_index("system")
    assert list(t1.index) == ["baseline", "10x ensemble", "distilled T=2", "distilled T=1"]
    assert t1.loc["baseline", "T"] == "— (hard labels)" and t1.loc["distilled T=2", "T"] == "T = 2"
    assert t1.loc["distilled T=2", "chosen on validation"] == "✓"
    assert t1.loc["baseline", "ours: frame acc., seen speakers"] == "58.9 %"
    assert t1.loc["distilled T=2", "paper: frame accuracy"] == "60.8 %"
    assert t1.loc["distilled T=1", "paper: frame accuracy"] == "—"  # not the model the paper's row stands for
    assert "None" not in t1.to_string() and "nan" not in t1.to_string()
    t5 = tables_with(at, "training frames")[0].set_index("system")
    assert t5.loc["soft targets (3%)", "ours: test frame acc."] == "57.0 %"
    assert t5.loc["soft targets (3%)", "paper: test frame acc."] == "57.0 %"
    assert any('"frame accuracy (%)"' in json.dumps(spec) for spec in charts_of(at))
    assert any(GOOD["05"] in c.value for c in at.caption)


def test_speech_page_shows_the_matched_control_the_epochs_kept_and_the_gain_by_temperature(monkeypatch, store,
                                                                                            tmp_path):  # fmt: skip
    """Issue 26: the matched control's bar is named for what it controls; a run with the new artifacts shows the
    epochs each hard-label model kept and the gain kept per temperature; an older run says what it lacks."""
    at = open_app(monkeypatch, store, LESSONS["05"])
    assert "was made before notebook 05 wrote them" in texts(at.caption)  # the fixture run predates issue 26
    rng = np.random.default_rng(0)
    arts = good_artifacts("05", rng)
    t1 = arts["table1.csv"]
    control = {"model": "matched control (hard labels, the distilled model's budget and inputs)", "temperature": None,
               "frame_acc_seen": 59.5, "frame_acc_unseen": 53.0, "chosen_on_val": False, "phone_error_rate": None}  # fmt: skip
    arts["table1.csv"] = pd.concat([t1, pd.DataFrame([control])], ignore_index=True)
    arts["curves.csv"] = pd.concat([arts["curves.csv"].assign(member=m) for m in (0, 1, 2)], ignore_index=True)
    arts["member_epochs.csv"] = pd.DataFrame({"model": ["baseline"] * 3 + ["10x ensemble"] * 6,
                                              "member": [0, 0, 0, 0, 0, 0, 1, 1, 1], "epoch": [1, 2, 3] * 3,
                                              "val_frame_acc": [50, 52, 51, 50, 51, 52, 50, 53, 52],
                                              "best": [False, True, False, False, False, True, False, True, False]})  # fmt: skip
    arts["gain_by_t.csv"] = pd.DataFrame({"temperature": [1.0, 10.0], "student_val_acc": [55.0, 51.0],
                                          "gain_kept_vs_baseline": [125.0, 25.0], "gain_kept_vs_control": [150.0, None],
                                          "student_minus_control": [3.0, -1.0], "chosen_on_val": [True, False]})  # fmt: skip
    write_run(tmp_path, "05_speech_frames", "20261203-000000-new05a", artifacts=arts)
    at = open_app(monkeypatch, tmp_path, LESSONS["05"])
    assert not at.error and "was made before" not in texts(at.caption)
    md = texts(at.markdown)
    assert "baseline: best validation epoch 2 of 3; 10x ensemble: best validation epochs 2–3 of 3" in md
    gt = tables_with(at, "share of the gain over the matched control")[0]
    assert gt["share of the gain over the baseline"].tolist() == ["125 %", "25 %"]
    assert gt["share of the gain over the matched control"].tolist() == ["150 %", "—"]
    assert gt["chosen on validation"].tolist() == ["✓", ""]
    specs = json.dumps(charts_of(at))
    assert "matched control (hard labels, the distilled model's budget)" in specs  # the overlay bar's name
    t1 = tables_with(at, "chosen on validation")[0].set_index("system")
    assert t1.iloc[-1]["T"] == "— (hard labels)"


def test_specialists_page_counts_classes_once_and_shows_percent(monkeypatch, store):
    at = open_app(monkeypatch, store, LESSONS["06"])
    captions = texts(at.caption)
    assert "5 clusters (one specialist each) cover 20 of the 20 classes" in captions
    assert "2 classes sit in two or more clusters (22 memberships in all)" in captions and GOOD["06"] in captions
    options = at.multiselect(key="specialist_runs").options
    assert options == [series(GOOD["06"])]  # schema 99 is skipped
    t3 = tables_with(at, "ours: test accuracy")[0].set_index("system")
    assert t3.iloc[0]["ours: test accuracy"] == "81.0 %" and t3.iloc[0]["paper: test accuracy"] == "25.0 %"
    assert t3.iloc[1]["ours: test accuracy"] == "82.6 %" and t3.iloc[1]["paper: test accuracy"] == "26.1 %"
    assert t3.index[1].startswith("+\u00a0")  # not a Markdown bullet
    t4 = tables_with(at, "specialists covering the correct class")[0]
    assert list(t4["specialists covering the correct class"])[:2] == ["0", "1"]
    assert list(t4["specialists covering the correct class"])[-1] == "10 or more"  # every row of the paper's
    row1 = t4.iloc[1]
    assert row1["ours: relative accuracy change"] == "+1.4 %" and row1["paper: relative accuracy change"] == "+3.4 %"
    assert t4.iloc[2]["ours: net change in top-1 correct"] == "\u22123" and t4.iloc[5]["ours: test images"] == "—"


def test_specialists_page_shows_the_controls_and_the_nll_the_claim_is_judged_on(monkeypatch, store):
    """Issue 26: the converged generalist and the compute-matched control beside the specialists, the §6.1 chart in
    NLL on the held-out cases, Table 4's slope from the run's metrics."""
    at = open_app(monkeypatch, store, LESSONS["06"])
    assert "Specialists against a converged generalist and the same compute" in texts(at.subheader)
    charts = [json.dumps(spec) for spec in charts_of(at)]
    assert any("reference, chosen on validation" in c and "validation accuracy (%)" in c for c in charts)
    assert any("conditional NLL on the specialist" in c for c in charts)
    captions = texts(at.caption)
    assert "'val' is the held-out training cases the claim is judged on" in captions
    assert "\u22121.6 % per specialist, bootstrap s.e. 0.8 %" in captions


def test_specialists_page_renders_an_older_run_without_the_new_artifacts(monkeypatch, tmp_path):
    """A run from before issue 26 (no controls.csv, no held-out curves, no slope) renders, saying what is missing."""
    arts = good_artifacts("06", np.random.default_rng(3))
    del arts["controls.csv"]
    arts["curves.csv"] = arts["curves.csv"][arts["curves.csv"].split != "val"]
    write_run(tmp_path, "06_specialists", "20261203-000000-old06a", artifacts=arts, claims=CLAIMS["06"])
    at = open_app(monkeypatch, tmp_path, LESSONS["06"])
    assert not at.error and not at.warning, [w.value for w in at.warning]
    infos, captions = texts(at.info), texts(at.caption)
    assert "This run has no `controls.csv`" in infos and "kdlab run notebooks/06_specialists.ipynb" in infos
    assert "This run has no held-out ('val') curves" in captions
    assert "This run recorded no slope of the trend" in captions


# ----------------------------------------------------------------------------------------------- no data, bad data


@pytest.mark.parametrize("nb,page", list(LESSONS.items()))
def test_empty_store_says_which_notebook_to_run(monkeypatch, tmp_path, nb, page):
    at = open_app(monkeypatch, tmp_path / "nothing-here", page)
    notebook = STEMS[nb]
    assert f"kdlab run notebooks/{notebook}.ipynb --profile quick" in texts(at.info)
    assert not at.warning and not at.error


def test_empty_store_claims_page(monkeypatch, tmp_path):
    at = open_app(monkeypatch, tmp_path / "nothing-here")
    infos = texts(at.info)
    assert "No claims from a run yet" in infos
    for nb in ("01", "02", "03", "04", "05", "06"):
        assert f"kdlab run {nb} --profile quick" in infos


def test_empty_store_runs_page(monkeypatch, tmp_path):
    at = open_app(monkeypatch, tmp_path, RUNS)
    assert "kdlab run notebooks/01_softmax_temperature.ipynb --profile quick" in texts(at.info)


@pytest.mark.parametrize("page", PAGES)
def test_only_broken_runs(monkeypatch, tmp_path, store, page):
    """A store with nothing but broken runs: every page still renders, none shows a broken run as a result."""
    for name, (nb, run_id) in BROKEN.items():
        if name != "missing_artifact":
            src = store / nb / (".staging" if name == "staging" else "") / run_id
            shutil.copytree(src, tmp_path / nb / (".staging" if name == "staging" else "") / run_id)
    at = open_app(monkeypatch, tmp_path, page)
    assert not at.error or page == RUNS  # broken runs are errors on the Runs page only
    if page != RUNS:
        assert "--profile quick" in texts(at.info)


def test_malformed_artifacts_inside_complete_runs(monkeypatch, tmp_path):
    """Complete runs whose artifacts break the contract: one warning line per artifact, naming the run, the notebook
    that writes the artifact and the command that does; never an exception."""
    rng = np.random.default_rng(1)
    arts = good_artifacts("03", rng)
    arts["sweep.csv"] = arts["sweep.csv"].drop(columns=["test_errors"])
    arts["results.csv"] = pd.DataFrame({"model": ["teacher"]})
    write_run(tmp_path, "03_mnist_distillation", "20261201-000000-badart", artifacts=arts)
    (tmp_path / "03_mnist_distillation" / "20261201-000000-badart" / "artifacts" / "soft_targets.npz").write_bytes(
        b"not a zip file"
    )
    arts6 = good_artifacts("06", rng)
    arts6["clusters.json"] = {"groups": []}
    write_run(tmp_path, "06_specialists", "20261201-000000-bad06a", artifacts=arts6)
    (tmp_path / "06_specialists" / "20261201-000000-bad06a" / "artifacts" / "table3.csv").write_text('"a,b\n1')
    arts2 = good_artifacts("02", rng)
    arts2["gradient_error.csv"] = arts2["gradient_error.csv"].drop(columns=["rel_error_eq3"])
    arts2["logit_weight.csv"] = pd.DataFrame({"temperature": [1.0]})
    write_run(tmp_path, "02_logit_matching_limit", "20261201-000000-bad02a", artifacts=arts2)
    arts4 = good_artifacts("04", rng)
    del arts4["bias_scan_only78.csv"]
    arts4["confusion.npz"] = {"before": np.eye(10)}
    write_run(tmp_path, "04_missing_class_bias", "20261201-000000-bad04a", artifacts=arts4)
    arts5 = good_artifacts("05", rng)
    arts5["table1.csv"] = arts5["table1.csv"].drop(columns=["frame_acc_seen"])
    write_run(tmp_path, "05_speech_frames", "20261201-000000-bad05a", artifacts=arts5)
    (tmp_path / "05_speech_frames" / "20261201-000000-bad05a" / "artifacts" / "curves.csv").write_bytes(b"\x00\xff")

    def warned(page: str, *needles: str) -> str:
        at = open_app(monkeypatch, tmp_path, page)
        warnings = [w.value for w in at.warning]
        for needle in needles:
            hits = [w for w in warnings if needle in w]
            assert hits, (page, needle, warnings)
            for w in hits:
                assert "\n" not in w and "kdlab run notebooks/" in w and "--profile quick" in w, w
        assert not at.error, [e.value for e in at.error]
        return "\n".join(warnings)

    text = warned(LESSONS["03"], "sweep.csv lacks column(s) test_errors", "results.csv lacks column(s) test_errors")
    assert "20261201-000000-badart" in text and "notebook 03_mnist_distillation writes it" in text
    at = open_app(monkeypatch, tmp_path, LESSONS["01"])  # the 03 run is the only one with soft targets
    assert "soft_targets.npz is not a readable npz" in texts(at.warning)
    text = warned(LESSONS["06"], "clusters.json lacks key(s) clusters", "table3.csv")
    assert "notebook 06_specialists writes it: `kdlab run notebooks/06_specialists.ipynb --profile quick`" in text
    warned(LESSONS["02"], "gradient_error.csv lacks column(s) rel_error_eq3", "logit_weight.csv lacks column(s)")
    warned(LESSONS["04"], "has no bias_scan_only78.csv", "confusion.npz lacks array(s) after")
    warned(LESSONS["05"], "table1.csv lacks column(s) frame_acc_seen", "curves.csv")


def test_unexpected_exception_is_one_line_not_a_traceback(monkeypatch, store):
    from dashboard import data

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire\nsecond line of detail")

    monkeypatch.setattr(data, "usable_runs", boom)
    at = open_app(monkeypatch, store, "views/temperature.py")
    assert not at.exception
    assert at.error[0].value.startswith("This page could not be drawn (RuntimeError: disk on fire)")
    assert "second line" not in at.error[0].value


def test_new_run_appears_without_restart(monkeypatch, tmp_path):
    rng = np.random.default_rng(2)
    write_run(tmp_path, "04_missing_class_bias", "20261201-000000-first1", artifacts=good_artifacts("04", rng))
    at = open_app(monkeypatch, tmp_path, RUNS)
    assert len(at.dataframe[0].value) == 1
    write_run(tmp_path, "05_speech_frames", "20261202-000000-second", artifacts=good_artifacts("05", rng))
    at.run()
    assert len(at.dataframe[0].value) == 2


# ----------------------------------------------------------------------------------------------- helpers


def test_runs_dir_flag_beats_environment(monkeypatch, tmp_path):
    from dashboard import data

    monkeypatch.setenv("KDLAB_RUNS", str(tmp_path / "env"))
    assert data.runs_dir([]) == (tmp_path / "env").resolve()
    assert data.runs_dir(["--runs", str(tmp_path / "flag")]) == (tmp_path / "flag").resolve()
    assert data.runs_dir([f"--runs={tmp_path}/eq"]) == (tmp_path / "eq").resolve()


def test_launch_command(tmp_path):
    from dashboard.launch import APP as LAUNCHED
    from dashboard.launch import command

    argv = command(tmp_path, 8600)
    assert argv[:5] == [sys.executable, "-m", "streamlit", "run", str(LAUNCHED)]
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--server.port") + 1] == "8600"
    assert argv[-3:] == ["--", "--runs", str(tmp_path.resolve())]
    assert "--" not in command(None, 8600)


def test_softmax_matches_eq1_and_is_stable():
    from dashboard.data import entropy_bits, softmax

    z = np.array([[3.0, 1.0, -2.0], [1000.0, 0.0, -1000.0]])
    for t in (1.0, 2.5, 20.0):
        q = softmax(z[:1], t)
        ref = np.exp(z[0] / t) / np.exp(z[0] / t).sum()
        np.testing.assert_allclose(q[0], ref, rtol=1e-12)
    assert np.isfinite(softmax(z, 1.0)).all()
    np.testing.assert_allclose(entropy_bits(softmax(np.zeros(10), 1.0)), np.log2(10))
    np.testing.assert_allclose(softmax(z, 1e6), 1 / 3, atol=1e-3)  # high T → uniform


def test_fixture_store_is_marked_and_follows_the_contract(store):
    from kdlab.artifacts import CONTRACT

    assert (store / "TEST_FIXTURE").exists()
    params = json.loads((store / "03_mnist_distillation" / GOOD["03_quick"] / "params.json").read_text())
    assert params["params"]["FIXTURE"] is True
    for name, run_id in GOOD.items():
        nb = {k[:2]: v for k, v in CONTRACT.items()}[name[:2]]
        folder = next(store.glob(f"{name[:2]}_*/{run_id}"))
        assert {p.name for p in (folder / "artifacts").iterdir()} >= set(nb), name


# ----------------------------------------------------------------------------------------------- navigation


def test_runs_page_compares_runs_of_one_notebook_unless_asked(monkeypatch, store, tmp_path):
    """The default comparison is two runs of one notebook; runs of another notebook only when the box is ticked, and
    then only the parameters both runs set are compared (the others are listed apart, not shown as rows of '—')."""
    at = open_app(monkeypatch, store, RUNS)
    a = at.selectbox(key="compare_a").value
    assert all(o.split(" · ")[0] == a.split(" · ")[0] for o in at.selectbox(key="compare_b").options)
    # one run per notebook: nothing of the same notebook to compare with
    write_run(tmp_path, "05_speech_frames", "20261201-000000-only05", params={"N_ENSEMBLE": 10})
    write_run(tmp_path, "06_specialists", "20261202-000000-only06", params={"N_SPECIALISTS": 5, "SEED": 1})
    at = open_app(monkeypatch, tmp_path, RUNS)
    assert "06" in at.selectbox(key="compare_a").value
    assert "No other run of `06_specialists` here to compare with" in texts(at.info)
    at.checkbox(key="compare_any").check().run()
    assert not at.exception
    assert at.selectbox(key="compare_b").options == ["05 · 20261201-000000-only05 · quick"]
    header = next(m.value for m in at.markdown if m.value.startswith("**Parameters that differ**"))
    diff = at.table[0].value
    assert list(diff.index) == ["SEED"]  # only the parameters both runs set; the rest apart, in an expander
    assert "of the" in header and "both runs set" in header
    assert any(e.label.startswith("Parameters only one of the runs sets") for e in at.expander)


# ----------------------------------------------------------------------------------------------- reference results


def test_reference_runs_are_shown_beside_yours_and_labelled(monkeypatch, store, tmp_path):
    """The published store (KDLAB_REFERENCE) is read too: Claims columns `full · reference` beside your quick runs,
    the Runs page's `store` column says `reference` or `yours`, and the provenance line names the commit."""
    ref = tmp_path / "reference"
    build_store(ref)  # fixture runs standing in for published ones
    monkeypatch.setenv("KDLAB_REFERENCE", str(ref))
    at = open_app(monkeypatch, store)
    columns = {col for _, col in verdicts(at)}
    assert {"yours · quick", "yours · full", "reference · full", "reference · quick"} <= columns
    at = open_app(monkeypatch, store, LESSONS["03"])  # the lesson page draws yours and the reference by default
    assert "· profile **full** · reference · device" in texts(at.caption)
    assert "· profile **quick** · yours · device" in texts(at.caption)
    at = open_app(monkeypatch, store, RUNS)
    table = at.dataframe[0].value
    assert set(table["store"]) == {"yours", "reference"}
    assert len(table) == 17 + 16  # a staging folder in the reference store is not a published run
    assert "Reference results:" in texts(at.sidebar.caption)


def test_without_a_reference_store_only_your_runs_show(monkeypatch, store, tmp_path):
    monkeypatch.setenv("KDLAB_REFERENCE", str(tmp_path / "none"))
    at = open_app(monkeypatch, store, RUNS)
    assert set(at.dataframe[0].value["store"]) == {"yours"}
    assert "Reference results:" not in texts(at.sidebar.caption)
