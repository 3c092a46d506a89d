"""``kdlab`` command line: fetch data, run notebooks into the run store, start the dashboard, benchmark.

    kdlab fetch mnist|speech|all [--profile quick]    obtain and verify data (SHA-256)
    kdlab build speech [--profile quick]              synthesize the speech corpus (same as fetch speech)
    kdlab run NOTEBOOK|all --profile quick [-p NAME VALUE ...] [--quiet]
                                                      shows the cell counter, the notebook's output and
                                                      training progress ([teacher] epoch 3/10 · … · ETA 29 s)
    kdlab runs                                        list the run store, with status
    kdlab dashboard [--runs DIR] [--port 8501]        Streamlit on 127.0.0.1
    kdlab bench [--device D] [--json FILE] [...]      benchmarks/train_throughput.py (its options; --help lists them)
    kdlab train teacher|ensemble [--nproc N] [...]     torch.distributed training (kdlab.distributed.train)
    kdlab exercises [DIR] [--force]                   the lessons' exercises, student versions, into DIR
                                                      (default my-exercises/); a file you changed is kept
    kdlab publish RUN_DIR [--reference DIR]           copy a finished full/paper run into reference/ (MANIFEST)
    kdlab report [--readme | --write | --check]       RESULTS.md / README table from reference/
    kdlab check NOTEBOOK... [--hidden]                execute exercise notebooks: passed/failed per exercise
                                                      (exit status 0 only if all pass)

Every expected failure (missing data, bad parameter, failed notebook) prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from kdlab import paths


def _fetch(args: argparse.Namespace) -> None:
    targets = ["mnist", "speech"] if args.what == "all" else [args.what]
    for what in targets:
        if what == "mnist":
            from kdlab.data.mnist import describe, fetch_mnist

            fetch_mnist(args.root)
            print(describe(args.root))
        elif what == "speech":
            from kdlab.data.speech import build_corpus

            folder = build_corpus(paths.data_root(args.root), profile=args.profile, force=args.force)
            print(f"speech corpus ({args.profile}) verified in {folder}")


def _run(args: argparse.Namespace) -> None:
    from kdlab.store.notebook_runs import resolve_notebook, run_notebook
    from kdlab.store.parameters import typed_overrides, validate
    from kdlab.syllabus import LESSONS

    if args.jobs < 1:
        raise ValueError(f"--jobs must be ≥ 1, got {args.jobs}")
    names = [lesson.stem for lesson in LESSONS] if args.notebook == "all" else [args.notebook]
    notebooks = {name: resolve_notebook(name) for name in names}
    overrides = {}
    for name, path in notebooks.items():  # everything is checked before anything runs or any folder is made
        overrides[name] = typed_overrides(path, args.param or [])  # each -p typed like the notebook's default
        validate(path, args.profile, overrides[name])  # with `all` every notebook must know each -p
    _check_data(list(notebooks.values()), args.profile)
    if args.jobs != 1 and len(names) > 1:
        from kdlab.store.parallel_runs import run_many

        done, failed = run_many(names, args.profile, args.param or [], args.runs, jobs=args.jobs)
        print(f"{len(done)} runs written under {paths.runs_root(args.runs)}")
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(names)} notebooks failed: " + "; ".join(failed))
        return
    done = []
    for name in names:
        print(f"kdlab run: {name} ({args.profile}) …", flush=True)
        folder = run_notebook(name, args.profile, overrides[name], args.runs, progress=not args.quiet)
        print(f"  complete: {folder}", flush=True)
        done.append(folder)
    if len(done) > 1:
        print(f"{len(done)} runs written under {paths.runs_root(args.runs)}")


def _check_data(notebooks: list, profile: str) -> None:
    """DataError naming the fetch command when a notebook's data is not on disk (before a run folder exists)."""
    from kdlab.data import preflight
    from kdlab.notebook_data import sources

    corpus = profile
    if any("speech" in sources(path) for path in notebooks):
        # the corpus each profile of lesson 05 reads
        from kdlab.lessons.speech_recipe import PROFILES as SPEECH_PROFILES

        corpus = SPEECH_PROFILES[profile].corpus if profile in SPEECH_PROFILES else profile
    preflight.check(notebooks, corpus)


def _runs(args: argparse.Namespace) -> None:
    from kdlab.store.reader import list_runs

    runs = list_runs(args.runs)
    if not runs:
        print(f"no runs under {paths.runs_root(args.runs)}; try `kdlab run all --profile quick`")
    for r in runs:
        wall = "?" if r.duration_s is None else f"{r.duration_s:.1f}"  # a failed run's too (FAILED marker)
        print(f"{r.notebook:28s} {r.run_id:24s} {r.profile:6s} {r.status:10s} {wall:>8}s  {r.problem}")


def _dashboard(args: argparse.Namespace) -> None:
    runs = paths.runs_root(args.runs).resolve()
    root = paths.project_root()
    if not (root / "dashboard" / "app.py").is_file():
        raise FileNotFoundError(
            f"{root / 'dashboard' / 'app.py'} not found: the dashboard ships with the kdlab checkout"
        )
    sys.path.insert(0, str(root))
    from dashboard.launch import command

    print(f"dashboard on http://127.0.0.1:{args.port} over {runs} (Ctrl-C stops it)", flush=True)
    env = dict(os.environ, KDLAB_RUNS=str(runs))
    raise SystemExit(subprocess.call(command(runs, args.port), env=env))


def _bench(args: argparse.Namespace) -> None:
    script = paths.project_root() / "benchmarks" / "train_throughput.py"
    if not script.is_file():
        raise FileNotFoundError(f"{script} not found: the benchmark ships with the kdlab checkout")
    raise SystemExit(subprocess.call([sys.executable, str(script), *args.rest]))


def _train(args: argparse.Namespace) -> None:
    from kdlab.distributed.train import main as dist_main

    raise SystemExit(dist_main([args.what, *args.rest]))


def _exercises(args: argparse.Namespace) -> None:
    from kdlab.exercises import write_exercises

    done = write_exercises(args.dir, force=args.force)
    for path, status in done:
        print(f"{status:>11}  {path}" + ("  (you changed it; --force overwrites it)" if status == "kept" else ""))
    first = done[0][0]
    print(f"open them with `jupyter lab {args.dir}`; check one with `kdlab check {first}`")


def _check(args: argparse.Namespace) -> None:
    from kdlab.exercises import check_notebook, read_exercise, report

    for notebook in args.notebook:  # a missing file or a non-notebook fails here, in one line, before any runs
        read_exercise(notebook)
    all_passed = True
    for notebook in args.notebook:
        print(f"kdlab check: executing {notebook}" + (" with the hidden tests" if args.hidden else ""), flush=True)
        results = check_notebook(notebook, hidden=args.hidden, timeout=args.timeout)
        print(report(results), flush=True)
        all_passed = all_passed and all(r.passed for r in results)
    raise SystemExit(0 if all_passed else 1)


def _publish(args: argparse.Namespace) -> None:
    from kdlab.store.reference import publish

    for run_dir in args.run_dir:
        print(f"published {publish(run_dir, args.reference)}")
    from kdlab.store.report import check

    stale = check()
    if stale and args.reference is None:
        print(f"now run `kdlab report --write`: {', '.join(stale)} no longer match reference/")


def _report(args: argparse.Namespace) -> None:
    from kdlab.store import report

    if args.write:
        changed = report.write()
        print("\n".join(f"rewrote {p}" for p in changed) or "README.md and notebooks/RESULTS.md are current")
    elif args.check:
        stale = report.check()
        if stale:
            print(f"kdlab report: {', '.join(stale)} differ(s) from reference/; run `kdlab report --write`")
            raise SystemExit(1)
        print("README.md and notebooks/RESULTS.md match reference/")
    else:
        print(report.readme_table() if args.readme else report.results_md(), end="")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kdlab", description="Distilling the Knowledge in a Neural Network: the lab")
    sub = parser.add_subparsers(dest="command", required=True)

    for name in ("fetch", "build"):
        p = sub.add_parser(name, help="obtain and verify data" if name == "fetch" else "synthesize a corpus")
        p.add_argument(
            "what",
            choices=["mnist", "speech", "all"] if name == "fetch" else ["speech"],
            help="mnist (notebooks 01-04, 06), speech (05) or all"
            if name == "fetch"
            else "speech (notebook 05's corpus)",
        )
        p.add_argument("--root", default=None, help="data folder (default: $KDLAB_DATA or <project>/data)")
        p.add_argument(
            "--profile",
            default="quick",
            choices=["quick", "full", "paper"],
            help="the speech corpus's size, one per run profile (default quick); MNIST has one size",
        )
        p.add_argument("--force", action="store_true", help="rebuild even if a verified copy exists")
        p.set_defaults(func=_fetch)

    p = sub.add_parser("run", help="execute a notebook through papermill into the run store")
    p.add_argument("notebook", help="path, stem, number (03) or 'all'")
    p.add_argument("--profile", default="quick", help="quick (minutes on a CPU, the default), full or paper (GPU)")
    p.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="set a name of the notebook's parameters cell, typed like its default (e.g. -p SEED 1); repeatable",
    )
    p.add_argument("--runs", default=None, help="run store (default: $KDLAB_RUNS or <project>/runs)")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="with 'all': notebooks at once, each in its own process (for a GPU; default 1, one after another)",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no cell counter, notebook output or training progress (the executed notebook keeps them)",
    )
    p.set_defaults(func=_run)

    p = sub.add_parser("runs", help="list runs and their status")
    p.add_argument("--runs", default=None, help="run store (default: $KDLAB_RUNS or <project>/runs)")
    p.set_defaults(func=_runs)

    p = sub.add_parser("dashboard", help="start the Streamlit dashboard on 127.0.0.1")
    p.add_argument("--runs", default=None, help="your run store (default: $KDLAB_RUNS or <project>/runs)")
    p.add_argument("--port", type=int, default=8501, help="port on 127.0.0.1 to serve it on (default 8501)")
    p.set_defaults(func=_dashboard)

    # Every option goes to the benchmark script, which parses (and documents, with --help) its own options.
    # argparse.REMAINDER did not take a leading option (`kdlab bench --device cuda` was "unrecognized"), so
    # main() hands bench whatever kdlab's parser does not know (parse_known_args) instead.
    p = sub.add_parser("bench", help="training throughput benchmark (options: kdlab bench --help)", add_help=False)
    p.set_defaults(func=_bench, rest=[])

    p = sub.add_parser("train", help="train with torch.distributed; --nproc N launches torchrun (docs/distributed.md)")
    p.add_argument(
        "what",
        choices=["teacher", "ensemble"],
        help="the MNIST teacher (data-parallel) or an ensemble of teachers split across ranks",
    )
    p.add_argument(
        "rest", nargs=argparse.REMAINDER, help="options of `python -m kdlab.distributed.train` (see --help there)"
    )
    p.set_defaults(func=_train)

    p = sub.add_parser("exercises", help="write the student versions of the exercise notebooks (exercises/)")
    p.add_argument("dir", nargs="?", default="my-exercises", help="working folder (default: my-exercises)")
    p.add_argument("--force", action="store_true", help="overwrite notebooks you have changed")
    p.set_defaults(func=_exercises)

    p = sub.add_parser("publish", help="copy finished full/paper runs into reference/ and rewrite its MANIFEST")
    p.add_argument("run_dir", nargs="+", help="runs/<notebook>/<run_id> (see `kdlab runs`)")
    p.add_argument("--reference", default=None, help="reference store (default: $KDLAB_REFERENCE or reference/)")
    p.set_defaults(func=_publish)

    p = sub.add_parser("report", help="print notebooks/RESULTS.md (or the README's results table) from reference/")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--readme", action="store_true", help="print the README's results table instead")
    g.add_argument("--write", action="store_true", help="rewrite README.md's table and notebooks/RESULTS.md")
    g.add_argument("--check", action="store_true", help="exit 1 when either file differs from reference/")
    p.set_defaults(func=_report)

    p = sub.add_parser("check", help="execute an exercise notebook and report each exercise passed or failed")
    p.add_argument("notebook", nargs="+", help="e.g. my-exercises/01_softmax_temperature.ipynb (or several)")
    p.add_argument("--hidden", action="store_true", help="also run the hidden tests (from exercises/)")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    p.set_defaults(func=_check)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """kdlab's arguments; ``bench`` keeps every option it is given (``args.rest``) for the benchmark script."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "bench":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "bench":
        args.rest = extra
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from kdlab.data.errors import DataError

    try:
        args.func(args)
    except (DataError, ValueError, RuntimeError, FileNotFoundError) as e:
        print(f"kdlab: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kdlab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
