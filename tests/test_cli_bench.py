"""``kdlab bench``: every form the docs show parses — by kdlab's parser (which hands bench all its options) and by
the benchmark's own — and ``--device cuda`` without CUDA is one line, not a traceback."""

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from kdlab.cli import parse_args

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "benchmarks/train_throughput.py"
FORM = re.compile(r"(?:kdlab bench|python " + re.escape(SCRIPT) + r")([^`\n|>#]*)")
DOCUMENTED_IN = ["README.md", "benchmarks/RESULTS.md", "scripts/gpu_paper.sh", "docs/distributed.md"]


def _benchmark():
    spec = importlib.util.spec_from_file_location("train_throughput", ROOT / SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def documented_forms() -> list[list[str]]:
    """The options after every `kdlab bench` / `train_throughput.py` in the docs, up to a redirection or comment."""
    forms = []
    for name in DOCUMENTED_IN:
        for match in FORM.finditer((ROOT / name).read_text()):
            words = shlex.split(match.group(1).replace("[", " ").replace("]", " "))
            forms.append([w for w in words if w not in ("2", "&")])
    return forms


def test_the_docs_show_the_forms_the_issue_names():
    forms = [" ".join(f) for f in documented_forms()]
    assert "--device cuda" in forms and any(f.startswith("--device auto --json") for f in forms)
    assert len(forms) >= 5


@pytest.mark.parametrize("rest", documented_forms(), ids=lambda f: " ".join(f) or "(bare)")
def test_every_documented_form_parses(rest):
    args = parse_args(["bench", *rest])
    assert args.command == "bench" and args.rest == rest  # kdlab hands every option on, in order
    _benchmark().build_parser().parse_args(rest)  # and the benchmark knows each one


@pytest.mark.parametrize(
    "rest", [["--device", "cuda"], ["--json", "out.json"], ["--device", "auto", "--json", "b.json"], ["--compile"]]
)
def test_the_forms_issue_24_names(rest):
    assert parse_args(["bench", *rest]).rest == rest
    _benchmark().build_parser().parse_args(rest)


def test_an_unknown_option_still_fails():
    with pytest.raises(SystemExit) as err:
        _benchmark().build_parser().parse_args(["--no-such-option"])
    assert err.value.code == 2
    with pytest.raises(SystemExit):
        parse_args(["runs", "--no-such-option"])  # only bench takes options kdlab does not know


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_bench_on_cuda_without_cuda_is_one_line():
    done = subprocess.run([sys.executable, "-m", "kdlab.cli", "bench", "--device", "cuda"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "CUDA is not available" in done.stderr
