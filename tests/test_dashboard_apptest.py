"""Dashboard pages under Streamlit's AppTest (no browser): every page against a fixture store with good runs and every
kind of broken run (and of broken claims.json), an empty store, malformed artifacts inside complete runs, and an
unexpected exception."""

from __future__ import annotations

import json
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
    CLAIMS_BROKEN,
    FAILED_REASON,
    GOOD,
    build_store,
    good_artifacts,
    write_claims,
    write_run,
)

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "dashboard" / "app.py")
CLAIMS_PAGE, RUNS = "views/claims.py", "views/runs.py"
PAGES = [CLAIMS_PAGE, RUNS, "views/soft_targets.py", "views/sweeps.py", "views/speech.py", "views/specialists.py"]


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
    assert "**17** of 17 run folders shown · **11** complete" in texts(at.markdown)
    table = at.dataframe[0].value
    assert len(table) == 17
    status = dict(zip(table["run"], table["status"], strict=True))
    reason = dict(zip(table["run"], table["reason"], strict=True))
    assert status[GOOD["03_full"]] == "complete"
    assert status[GOOD["01"]] == "complete"  # entropy_vs_t.png beside entropy_vs_t.csv hides nothing
    assert status[BROKEN["failed"][1]] == "failed" and FAILED_REASON in reason[BROKEN["failed"][1]]
    assert (
        status[BROKEN["half_written"][1]] == "incomplete" and "no COMPLETE marker" in reason[BROKEN["half_written"][1]]
    )
    assert status[BROKEN["staging"][1]] == "incomplete" and "still running" in reason[BROKEN["staging"][1]]
    assert status[BROKEN["empty"][1]] == "invalid" and reason[BROKEN["empty"][1]] == "empty run folder"
    assert "params.json is not valid JSON" in reason[BROKEN["malformed_json"][1]]
    assert "unknown schema version 99" in reason[BROKEN["unknown_schema"][1]]
    assert status[BROKEN["missing_artifact"][1]] == "complete (missing sweep.csv, soft_targets.npz)"
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
    assert quick["device"] == "cpu" and quick["wall time (s)"] == 42.5 and quick["profile"] == "quick"
    assert "teacher_errors=70" in quick["headline metrics"]


def test_runs_page_filters_by_notebook_and_profile(monkeypatch, store):
    at = open_app(monkeypatch, store, RUNS)
    at.multiselect(key="filter_notebook").set_value(["03_mnist_distillation"]).run()
    assert set(at.dataframe[0].value["notebook"]) == {"03_mnist_distillation"}
    at.multiselect(key="filter_profile").set_value(["full"]).run()
    assert not at.exception
    assert list(at.dataframe[0].value["run"]) == [GOOD["03_full"]]


def test_runs_page_compares_two_runs(monkeypatch, store):
    at = open_app(monkeypatch, store, RUNS)
    labels = at.selectbox(key="compare_a").options
    quick = next(label for label in labels if GOOD["03_quick"] in label)
    full = next(label for label in labels if GOOD["03_full"] in label)
    at.selectbox(key="compare_a").set_value(quick)
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
    assert "Claims: 3 of 3 hold" in captions and str(store / "03_mnist_distillation" / GOOD["03_full"]) in captions
    assert GOOD["03_full"] in at.selectbox(key="compare_a").value
    assert GOOD["03_full"] not in at.selectbox(key="compare_b").value
    at.query_params["run"] = "20000101-000000-nosuch"
    at.run()
    assert not at.exception and "No run `20000101-000000-nosuch` in this store" in texts(at.warning)


# ----------------------------------------------------------------------------------------------- Claims


def claims_tables(at) -> pd.DataFrame:
    """Every claims table on the page, stacked (index: claim id)."""
    return pd.concat([t.value for t in at.table if t.value.index.name == "claim"])


def test_claims_page_is_the_default_and_shows_every_claim(monkeypatch, store):
    at = open_app(monkeypatch, store)  # no page: the default one
    assert at.title[0].value == "Claims"
    assert "**7 of 8 claims hold in your newest quick runs**" in texts(at.markdown)
    assert "full: 3 of 3 hold" in texts(at.caption)
    table = claims_tables(at)
    ids = [c["id"] for claims in CLAIMS.values() for c in claims]
    assert set(table.index) == set(ids)
    row = table.loc["03.distilled_beats_baseline"]
    assert row["§"] == "§3" and row["paper"] == "74 vs 146 errors"
    assert row["quick: ours"] == "80 vs 150 errors" and row["quick: verdict"] == "✅ holds"
    assert row["quick: margin / noise"] == "+70 / 9.5"
    assert row["full: ours"] == "76 vs 146 errors" and row["full: verdict"] == "✅ holds"
    near = table.loc["03.distilled_near_teacher"]
    assert near["quick: verdict"] == "❌ does not hold" and near["quick: margin / noise"] == "-4.4 / 7.2"
    assert near["full: verdict"] == "✅ holds"
    assert table.loc["03.narrow_best_t", "quick: verdict"] == "not tested"  # only the full run tests it
    assert table.loc["03.narrow_best_t", "full: margin / noise"] == "+0.5 / —"  # no noise: an exact test
    # which run each column came from: the newest complete run per notebook × profile, with a link to it
    captions = texts(at.caption)
    newest_quick_03 = BROKEN["missing_artifact"][1]  # complete, newer than the good quick run, has claims
    assert f"run `03_mnist_distillation/{newest_quick_03}` · profile **quick**" in captions
    assert f"run `03_mnist_distillation/{GOOD['03_full']}` · profile **full**" in captions
    assert str(store / "03_mnist_distillation" / GOOD["03_full"]) in captions
    assert GOOD["03_quick"] not in captions  # superseded by the newer complete quick run
    links = {link.value: link.proto for link in at.page_link}
    link = links[f"Run {GOOD['03_full']} on the Runs page"]
    assert link.page == "runs" and link.query_string == f"run={GOOD['03_full']}"
    for name in ("failed", "half_written", "staging", "empty"):  # not complete: never a source of claims
        assert BROKEN[name][1] not in captions


def test_claims_page_one_run_with_valid_claims(monkeypatch, tmp_path):
    """A store with one complete run and a valid claims.json: its claim and verdict, the others say what to run."""
    write_run(tmp_path, "04_missing_class_bias", "20261201-000000-claim1", claims=CLAIMS["04"])
    at = open_app(monkeypatch, tmp_path)
    table = claims_tables(at)
    assert list(table.index) == ["04.bias_recovers_3s"]
    assert table.loc["04.bias_recovers_3s", "quick: verdict"] == "✅ holds"
    assert "**1 of 1 claims hold in your newest quick runs**" in texts(at.markdown)
    assert not at.warning and not at.error
    infos = texts(at.info)
    for nb in ("01", "02", "03", "05", "06"):
        assert f"kdlab run {nb} --profile quick" in infos
    assert "kdlab run 04 --profile quick" not in infos


def test_claims_page_verdict_follows_the_file(monkeypatch, tmp_path):
    """The check can fail: the same run's claim, rewritten with holds false, shows "does not hold" (no cache)."""
    claim = {**CLAIMS["03_quick"][0]}
    folder = write_run(tmp_path, "03_mnist_distillation", "20261201-000000-flip01", claims=[claim])
    at = open_app(monkeypatch, tmp_path)
    assert claims_tables(at).loc["03.distilled_beats_baseline", "quick: verdict"] == "✅ holds"
    assert "**1 of 1 claims hold" in texts(at.markdown)
    write_claims(folder, "03_mnist_distillation", "quick", [{**claim, "holds": False, "margin": -3.0}])
    at.run()
    assert not at.exception
    row = claims_tables(at).loc["03.distilled_beats_baseline"]
    assert row["quick: verdict"] == "❌ does not hold" and row["quick: margin / noise"] == "-3 / 9.5"
    assert "**0 of 1 claims hold" in texts(at.markdown)


def test_claims_page_hostile_store_warns_and_goes_on(monkeypatch, store):
    """claims.json missing, not JSON, unknown schema: a warning naming the run and read_claims' problem each."""
    from kdlab.claims import read_claims

    at = open_app(monkeypatch, store)
    warnings = [w.value for w in at.warning]
    for name, (nb, run_id, profile) in CLAIMS_BROKEN.items():
        problem = read_claims(store / nb / run_id)[1]
        assert problem, name
        hits = [w for w in warnings if f"{nb}/{run_id}" in w]
        assert len(hits) == 1 and problem in hits[0] and f"profile {profile}" in hits[0], (name, warnings)
    text = "\n".join(warnings)
    assert "claims.json is missing" in text and "claims.json is not valid JSON" in text
    assert "unknown schema 'kdlab.claims/99'" in text
    # the good quick runs of the same notebooks still show their claims, without a column for the bad run
    table04 = next(t.value for t in at.table if "04.bias_recovers_3s" in t.value.index)
    assert table04.loc["04.bias_recovers_3s", "quick: verdict"] == "✅ holds"
    assert not [c for c in table04.columns if c.startswith("full")]


def test_claims_page_refuses_claims_of_another_notebook(monkeypatch, tmp_path):
    folder = write_run(tmp_path, "05_speech_frames", "20261201-000000-stray1")
    write_claims(folder, "04_missing_class_bias", "quick", CLAIMS["04"])  # a 04 claims.json in a 05 run
    at = open_app(monkeypatch, tmp_path)
    assert "holds claim(s) of another notebook: 04.bias_recovers_3s" in texts(at.warning)
    assert not [t for t in at.table if t.value.index.name == "claim"]


# ----------------------------------------------------------------------------------------------- Soft targets


def metric_values(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_soft_targets_slider_changes_the_numbers(monkeypatch, store):
    at = open_app(monkeypatch, store, "views/soft_targets.py")
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
    at = open_app(monkeypatch, store, "views/soft_targets.py")
    at.selectbox(key="image").set_value(2)
    at.select_slider(key="temperature").set_value(5.0).run()
    z = np.load(store / "03_mnist_distillation" / GOOD["03_quick"] / "artifacts" / "soft_targets.npz")
    logits, label = z["teacher_logits"][2].astype(float), int(z["labels"][2])
    q = np.exp(logits / 5.0) / np.exp(logits / 5.0).sum()
    assert metric_values(at)[f"teacher p(label {label}) at T=5"] == f"{q[label]:.4f}"


def test_soft_targets_run_from_notebook_01_has_no_student(monkeypatch, store):
    at = open_app(monkeypatch, store, "views/soft_targets.py")
    options = at.selectbox(key="soft_run").options
    assert not any(BROKEN["missing_artifact"][1] in o or BROKEN["half_written"][1] in o for o in options)
    at.selectbox(key="soft_run").set_value(next(o for o in options if o.startswith("01"))).run()
    assert not at.exception
    assert metric_values(at)["student"] == "not saved"
    assert any("skipped here" in c.value for c in at.caption)


# ----------------------------------------------------------------------------------------------- Sweeps, speech, specialists


def test_sweeps_page_overlays_runs_and_checks_claims(monkeypatch, store):
    at = open_app(monkeypatch, store, "views/sweeps.py")
    chosen = at.multiselect(key="sweep_runs").value
    assert len(chosen) == 2 and any("full" in c for c in chosen) and any("quick" in c for c in chosen)
    claims = next(d.value for d in at.dataframe if "paper's claim" in d.value.columns)
    narrow = claims[claims["width"] == 30]
    assert list(narrow["paper's claim"]) == ["best T in 2.5–4: yes"] * 2
    results = at.dataframe[0].value
    assert {"run", "profile", "paper_errors"} <= set(results.columns)
    assert set(results["profile"]) == {"quick", "full"}
    bias = next(d.value for d in at.dataframe if "best shift" in d.value.columns)
    assert bias.iloc[0]["errors at shift 0"] == 213  # fixture: 133 + 10 errors on 3s, 70 others
    captions = texts(at.caption)
    assert "profile **full**" in captions and GOOD["04"] in captions


def test_speech_page_tables_and_gain(monkeypatch, store):
    at = open_app(monkeypatch, store, "views/speech.py")
    assert metric_values(at)["share of the ensemble's frame-accuracy gain kept by the distilled model"] == "86%"
    assert list(at.dataframe[0].value["model"]) == ["baseline", "10x ensemble", "distilled single model"]
    assert "Soft Targets (3% of training set)" in at.table[1].value.index
    assert any(GOOD["05"] in c.value for c in at.caption)


def test_specialists_page(monkeypatch, store):
    at = open_app(monkeypatch, store, "views/specialists.py")
    captions = texts(at.caption)
    assert "5 clusters over 20 classes (method: covariance)" in captions and GOOD["06"] in captions
    options = at.selectbox(key="specialist_run").options
    assert not any(BROKEN["unknown_schema"][1] in o for o in options)  # schema 99 is skipped
    assert list(at.dataframe[-1].value["n_specialists"])[:2] == ["0", "1"]  # paper's Table 4 beside ours


# ----------------------------------------------------------------------------------------------- no data, bad data


@pytest.mark.parametrize(
    "page,notebook",
    [
        ("views/soft_targets.py", "01_softmax_temperature"),
        ("views/sweeps.py", "03_mnist_distillation"),
        ("views/speech.py", "05_speech_frames"),
        ("views/specialists.py", "06_specialists"),
    ],
)
def test_empty_store_says_which_notebook_to_run(monkeypatch, tmp_path, page, notebook):
    at = open_app(monkeypatch, tmp_path / "nothing-here", page)
    assert f"kdlab run notebooks/{notebook}.ipynb --profile quick" in texts(at.info)


def test_empty_store_claims_page(monkeypatch, tmp_path):
    at = open_app(monkeypatch, tmp_path / "nothing-here")
    infos = texts(at.info)
    assert "No claims from a quick run yet" in infos
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
    """Complete runs whose artifacts break the contract: one-line warnings naming the run, no exception."""
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
    at = open_app(monkeypatch, tmp_path, "views/sweeps.py")
    warnings = texts(at.warning)
    assert "sweep.csv lacks column(s) test_errors" in warnings and "20261201-000000-badart" in warnings
    assert "results.csv lacks column(s) test_errors" in warnings
    at.switch_page("views/soft_targets.py").run()
    assert not at.exception and "soft_targets.npz is not a readable npz" in texts(at.warning)
    at.switch_page("views/specialists.py").run()
    assert not at.exception
    assert "clusters.json lacks key(s) clusters" in texts(at.warning)


def test_unexpected_exception_is_one_line_not_a_traceback(monkeypatch, store):
    from dashboard import data

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire\nsecond line of detail")

    monkeypatch.setattr(data, "usable_runs", boom)
    at = open_app(monkeypatch, store, "views/soft_targets.py")
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
    from dashboard.data import CONTRACT

    assert (store / "TEST_FIXTURE").exists()
    params = json.loads((store / "03_mnist_distillation" / GOOD["03_quick"] / "params.json").read_text())
    assert params["params"]["FIXTURE"] is True
    for name, run_id in GOOD.items():
        nb = {k[:2]: v for k, v in CONTRACT.items()}[name[:2]]
        folder = next(store.glob(f"{name[:2]}_*/{run_id}"))
        assert {p.name for p in (folder / "artifacts").iterdir()} >= set(nb), name
