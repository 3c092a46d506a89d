"""torch.distributed with 2 gloo processes on 127.0.0.1: DDP equals one process, jobs split, a crash fails cleanly.

Each test launches ``torchrun`` (``python -m torch.distributed.run``) with a free port and a hard timeout. The
workers of the equivalence test are this very file run as a script (``worker`` below), so nothing but kdlab needs
to be importable in the children.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from kdlab.core.batches import batch_piece, jitter_images, shift_images
from kdlab.core.config import TrainConfig, seed_everything
from kdlab.core.models import MLP, BatchedMLP
from kdlab.core.train import fit
from kdlab.distributed.ddp import free_port, split_jobs

pytestmark = pytest.mark.distributed
LAUNCH_TIMEOUT = 150  # seconds per launch (they run concurrently); the file takes ~25 s on an idle 2-core CPU
WORLD = 2


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", KDLAB_DIST_TIMEOUT="60", GLOO_SOCKET_IFNAME="lo", PYTHONUNBUFFERED="1")
    env.pop("KDLAB_RUN_DIR", None)
    return env


class Launch:
    """A job started in the background (its own process group), so the file's three launches overlap in time."""

    def __init__(self, cmd: list[str], env: dict[str, str], folder: Path):
        self.log = folder / "stderr.txt"
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)

    def wait(self) -> tuple[int, str]:
        """(exit code, stderr); the launch is killed (and the test fails) after LAUNCH_TIMEOUT seconds."""
        try:
            code = self.proc.wait(timeout=LAUNCH_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"launch did not finish in {LAUNCH_TIMEOUT} s: {self.log.read_text()[-2000:]}")
        return code, self.log.read_text()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()


def _torchrun(args: list[str], folder: Path) -> Launch:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc-per-node={WORLD}",
        "--nnodes=1",
        "--master-addr=127.0.0.1",
        f"--master-port={free_port()}",
        "--max-restarts=0",
        *args,
    ]
    return Launch(cmd, _env(), folder)


def _kdlab_train(args: list[str], folder: Path, data: Path) -> Launch:
    cmd = [
        sys.executable,
        "-m",
        "kdlab.distributed.train",
        *args,
        *TINY,
        "--nproc",
        str(WORLD),
        "--runs",
        str(folder / "runs"),
        "--data",
        str(data),
        "--timeout",
        "60",
    ]
    env = _env()
    env.pop("OMP_NUM_THREADS")  # torchrun sets 1 per process itself
    return Launch(cmd, env, folder)


TINY = ["--epochs", "1", "--train-size", "256", "--hidden", "16", "--no-progress"]


@pytest.fixture(scope="module")
def launches(tmp_path_factory, mnist_dir):
    """Start every multi-process job of this file at once; each test waits for its own."""
    folders = {name: tmp_path_factory.mktemp(name) for name in ("ddp", "ensemble", "crash", "killed")}
    jobs = {
        "ddp": _torchrun([__file__, "worker", str(folders["ddp"] / "ddp.pt")], folders["ddp"]),
        "ensemble": _kdlab_train(["ensemble", "--members", "3", "--seed", "5"], folders["ensemble"], mnist_dir),
        "crash": _kdlab_train(["teacher", "--epochs", "2", "--fail-rank", "1"], folders["crash"], mnist_dir),
        "killed": _kdlab_train(["teacher", "--fail-rank", "0", "--fail-mode", "kill"], folders["killed"], mnist_dir),
    }
    yield {name: (job, folders[name]) for name, job in jobs.items()}
    for job in jobs.values():
        job.kill()


# --------------------------------------------------------------------------- the scenarios, shared with workers


def _data(n: int, classes: int = 4, seed: int = 7):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 64, generator=g)  # 8×8 "images", so jitter has something to shift
    y = torch.randint(0, classes, (n,), generator=g)
    return x, y


def scenario(name: str):
    """(model, fit kwargs) for a named case; built identically in the worker and in the test."""
    seed_everything(3)
    x, y = _data(150)
    base = dict(epochs=2, batch_size=32, lr=0.05, progress=False, image_shape=(8, 8))
    if name == "hard_jitter_maxnorm":  # last batch of 22 rows: pieces of 11 and 11
        model = MLP(64, [32, 32], 4, max_norm=0.9)
        return model, dict(x=x, y=y, config=TrainConfig(**base, jitter=1, weight_decay=1e-3))
    if name == "odd_batches":  # batch 33 → pieces 17/16; last batch of 18 → 9/9
        model = MLP(64, [16], 4)
        return model, dict(x=x[:117], y=y[:117], config=TrainConfig(**{**base, "batch_size": 33}, jitter=1))
    if name == "empty_piece":  # 100 rows, batch 33: the last batch has 1 row, rank 1's piece is empty
        model = MLP(64, [16], 4, max_norm=1.0)
        return model, dict(x=x[:100], y=y[:100], config=TrainConfig(**{**base, "batch_size": 33}))
    if name == "soft_ensemble":  # a BatchedMLP distilled from per-member teacher logits (M, N, C)
        model = BatchedMLP(3, 64, [16], 4)
        teacher = torch.randn(3, 150, 4, generator=torch.Generator().manual_seed(1)) * 3
        return model, dict(
            x=x,
            y=y,
            teacher_logits=teacher,
            config=TrainConfig(**base, temperature=4.0, hard_weight=0.3, schedule="cosine"),
        )
    if name == "sample_batch":  # a custom sampler (as specialists use): 40 indices per step from the generator
        model = MLP(64, [16], 4)

        def sample(gen: torch.Generator, step: int) -> torch.Tensor:
            return torch.randint(0, 150, (40,), generator=gen)

        return model, dict(x=x, y=y, sample_batch=sample, config=TrainConfig(**base))
    raise KeyError(name)


SCENARIOS = ["hard_jitter_maxnorm", "odd_batches", "empty_piece", "soft_ensemble", "sample_batch"]


def _job(i: int) -> dict:
    """An 'ensemble member': train a tiny MLP with seed i; the result must not depend on which rank runs it."""
    seed_everything(100 + i)
    model = MLP(64, [8], 4)
    x, y = _data(64, seed=i)
    fit(model, x, y, config=TrainConfig(epochs=1, batch_size=16, seed=i, progress=False), device="cpu")
    rank = int(os.environ.get("RANK", "0"))
    return {"index": i, "rank": rank, "state": model.state_dict()}


def _interrupted_then_resumed(path: Path, fit_fn) -> dict:
    """Train 'hard_jitter_maxnorm' with a checkpoint, stop after epoch 1, resume in a fresh model: final weights."""
    model, kwargs = scenario("hard_jitter_maxnorm")
    kwargs["config"] = replace(kwargs["config"], checkpoint_path=str(path))

    def stop(epoch, _model):
        if epoch == 1:
            raise KeyboardInterrupt  # after epoch 0's checkpoint, before epoch 1's

    with pytest.raises(KeyboardInterrupt):
        fit_fn(model, on_epoch_end=stop, **kwargs)
    model, _ = scenario("hard_jitter_maxnorm")
    history = fit_fn(model, **kwargs)
    return {"state": model.state_dict(), "loss": history.train_loss}


def worker(out: str, device: str = "cpu") -> None:
    """Run every scenario with fit_ddp (2 ranks) and the job split; rank 0 saves the results to ``out``."""
    from kdlab.distributed.ddp import distributed, fit_ddp, map_jobs

    with distributed(device) as env:  # gloo on "cpu", NCCL on "cuda" (one GPU per rank)
        results = {}
        for name in SCENARIOS:
            model, kwargs = scenario(name)
            history = fit_ddp(model, **kwargs)
            results[name] = {"state": model.state_dict(), "loss": history.train_loss}
        results["jobs"] = map_jobs(_job, list(range(5)))
        results["resumed"] = _interrupted_then_resumed(Path(out).with_name("ckpt.pt"), fit_ddp)
        if env.is_main:
            torch.save(results, out)


# ------------------------------------------------------------------------------------------------- tests


def test_batch_piece_and_split_jobs_cover_everything():
    for size in (0, 1, 7, 32, 33):
        for world in (1, 2, 3):
            pieces = [batch_piece(size, world, r) for r in range(world)]
            assert pieces[0][0] == 0 and pieces[-1][1] == size
            assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
            ref = [len(c) for c in torch.arange(size).tensor_split(world)]
            assert [b - a for a, b in pieces] == ref
    from kdlab.distributed.ddp import DistEnv

    jobs = list(range(7))
    shares = [split_jobs(jobs, DistEnv(rank=r, world_size=3)) for r in range(3)]
    assert sorted(sum(shares, [])) == jobs and shares[1] == [1, 4]


def test_the_trainer_runs_with_python_m():
    """`python -m kdlab.distributed.train` (what torchrun runs on every rank) starts the trainer."""
    proc = subprocess.run(
        [sys.executable, "-m", "kdlab.distributed.train", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "teacher" in proc.stdout, proc.stderr[-500:]


def test_kdlab_train_command_line_builds_the_torchrun_launch():
    from kdlab.cli import build_parser
    from kdlab.distributed.launch import _worker_argv, torchrun_command
    from kdlab.distributed.launch import build_parser as train_parser

    args = build_parser().parse_args(["train", "teacher", "--nproc", "2", "--epochs", "1"])
    assert (args.what, args.rest) == ("teacher", ["--nproc", "2", "--epochs", "1"])
    argv = ["teacher", "--nproc=4", "--epochs", "1", "--nnodes", "2", "--rdzv-endpoint", "node0:29500"]
    assert _worker_argv(argv) == ["teacher", "--epochs", "1"]
    cmd = torchrun_command(train_parser().parse_args(argv), _worker_argv(argv))
    assert "--nproc-per-node=4" in cmd and "--nnodes=2" in cmd and "--rdzv-endpoint=node0:29500" in cmd
    assert cmd[-5:] == ["-m", "kdlab.distributed.train", "teacher", "--epochs", "1"]
    with pytest.raises(ValueError, match="rdzv-endpoint"):
        torchrun_command(train_parser().parse_args(["teacher", "--nproc", "2", "--nnodes", "2"]), ["teacher"])


def test_shift_images_matches_jitter_images():
    x = torch.rand(9, 64)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    ref = jitter_images(x, 2, (8, 8), g1)
    offsets = torch.randint(0, 5, (2, 9), generator=g2)
    torch.testing.assert_close(shift_images(x[3:7], offsets[:, 3:7], 2, (8, 8)), ref[3:7], rtol=0, atol=0)


def test_ddp_equals_single_process_and_jobs_split(launches):
    job, folder = launches["ddp"]
    code, stderr = job.wait()
    assert code == 0, stderr[-3000:]
    got = torch.load(folder / "ddp.pt", weights_only=False)
    for name in SCENARIOS:
        model, kwargs = scenario(name)
        history = fit(model, device="cpu", **kwargs)
        ref = model.state_dict()
        for key in ref:
            torch.testing.assert_close(
                got[name]["state"][key], ref[key], rtol=1e-4, atol=2e-5, msg=lambda m, k=key, n=name: f"{n}/{k}: {m}"
            )
        torch.testing.assert_close(
            torch.tensor(got[name]["loss"]), torch.tensor(history.train_loss), rtol=1e-4, atol=1e-6
        )
    model, kwargs = scenario("hard_jitter_maxnorm")  # the interrupted and resumed DDP run == uninterrupted fit
    fit(model, device="cpu", **kwargs)
    for key, ref in model.state_dict().items():
        torch.testing.assert_close(got["resumed"]["state"][key], ref, rtol=1e-4, atol=2e-5)
    jobs = got["jobs"]
    assert [j["index"] for j in jobs] == list(range(5))
    assert [j["rank"] for j in jobs] == [0, 1, 0, 1, 0]  # round robin over the two ranks
    for i, job in enumerate(jobs):
        ref = _job(i)["state"]
        for key in ref:
            torch.testing.assert_close(job["state"][key], ref[key], rtol=1e-5, atol=1e-6)


def test_ensemble_members_split_across_ranks_equal_members_trained_alone(launches, mnist_dir):
    from kdlab.data.mnist import load_mnist
    from kdlab.distributed.launch import build_parser
    from kdlab.distributed.train import _profile
    from kdlab.lessons.distillation import make_teacher, training_subset
    from kdlab.store.reader import list_runs

    job, folder = launches["ensemble"]
    code, stderr = job.wait()
    assert code == 0, stderr[-3000:]
    [info] = list_runs(folder / "runs")
    assert info.ok and info.notebook == "train_mnist_ensemble" and info.params["WORLD_SIZE"] == WORLD
    members = info.artifact("members").read_text().splitlines()[1:]
    assert [line.split(",")[:2] for line in members] == [["0", "0"], ["1", "1"], ["2", "0"]]  # index, rank
    assert len(info.metrics["member_test_errors"]) == 3 and info.metrics["ensemble_test_errors"] >= 0

    profile = _profile(build_parser().parse_args(["ensemble", *TINY]))
    data = load_mnist(mnist_dir)
    x, y = data.flat("train")
    keep = training_subset(x.shape[0], profile.train_size, 5)
    state = torch.load(info.artifact("ensemble"), weights_only=True)
    for i in range(3):  # member i, trained alone here, equals the one its rank trained
        seed_everything(5 + i)
        model = make_teacher(profile)
        fit(model, x[keep], y[keep], config=replace(profile.teacher, seed=5 + i), device="cpu")
        for layer, param in enumerate(model.layers):
            torch.testing.assert_close(state[f"weights.{layer}"][i], param.weight.detach(), rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(state[f"biases.{layer}"][i, 0], param.bias.detach(), rtol=1e-4, atol=1e-5)


def test_a_crashed_rank_fails_the_job_with_one_line_and_no_complete_run(launches):
    from kdlab.store.reader import list_runs

    job, folder = launches["crash"]
    code, stderr = job.wait()
    runs = folder / "runs"
    assert code == 2, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("kdlab train: error: rank 1 of 2: RuntimeError: injected failure on rank 1"), last
    infos = list_runs(runs)
    assert infos and not any(i.ok for i in infos)
    assert [i.status for i in infos] == ["failed"] and "rank 1 of 2" in infos[0].problem
    assert not list((runs / "train_mnist_teacher" / ".staging").glob("*"))  # nothing left half-written


def test_a_killed_rank_0_leaves_a_failed_run_not_a_staging_folder(launches):
    """SIGKILL on rank 0 (no Python cleanup, like an OOM kill): the launcher finalizes its staging run as FAILED."""
    from kdlab.store.reader import list_runs

    job, folder = launches["killed"]
    code, stderr = job.wait()
    assert code == 2, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("kdlab train: error: rank 0 of 2 died without an error report"), last
    infos = list_runs(folder / "runs")
    assert [i.status for i in infos] == ["failed"] and "rank 0 of 2 died" in infos[0].problem


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA devices (NCCL)")
def test_ddp_equals_single_process_on_two_gpus_with_nccl(tmp_path):
    out = tmp_path / "ddp_cuda.pt"
    job = _torchrun([__file__, "worker", str(out), "cuda"], tmp_path)
    code, stderr = job.wait()
    assert code == 0, stderr[-3000:]
    got = torch.load(out, weights_only=False, map_location="cpu")
    for name in SCENARIOS:
        model, kwargs = scenario(name)
        history = fit(model, device="cuda:0", **kwargs)
        for key, ref in model.state_dict().items():
            torch.testing.assert_close(got[name]["state"][key], ref.cpu(), rtol=1e-4, atol=5e-5)
        torch.testing.assert_close(
            torch.tensor(got[name]["loss"]), torch.tensor(history.train_loss), rtol=1e-4, atol=1e-6
        )


if __name__ == "__main__" and len(sys.argv) in (3, 4) and sys.argv[1] == "worker":
    worker(*sys.argv[2:])
