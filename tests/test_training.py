"""Training survives real use: resume after a kill, reproducible reruns, two replicas (run on small
subsets)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import DATA_DIR, PROGRAMS

pytestmark = pytest.mark.slow

SUBSET, EPOCHS = 6000, 4


def start(tmp_path, mode="notebook"):
    """Train in a process of its own (tests/programs/train_and_report.py): SUBSET digits, EPOCHS."""
    backup, checkpoint = tmp_path / "backup", tmp_path / "run.weights.h5"
    arguments = [backup, checkpoint, mode, DATA_DIR, SUBSET, EPOCHS]
    return subprocess.Popen(
        [sys.executable, str(PROGRAMS / "train_and_report.py"), *map(str, arguments)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def finish(process, timeout=300):
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out
    return parse(out.splitlines())


def parse(lines):
    events = [line.split() for line in lines if line.split()]
    return {
        "begun": [int(e[1]) for e in events if e[0] == "begin"],
        "accuracy": next(float(e[1]) for e in events if e[0] == "accuracy"),
        "weights": next(e[1] for e in events if e[0] == "weights"),
        "replicas": next(int(e[1]) for e in events if e[0] == "replicas"),
        "history": next([int(x) for x in e[1:]] for e in events if e[0] == "history"),
        "seconds": next([float(x) for x in e[1:]] for e in events if e[0] == "seconds"),
        "val_accuracy": next([float(x) for x in e[1:]] for e in events if e[0] == "val_accuracy"),
    }


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    result = finish(start(tmp_path_factory.mktemp("uninterrupted")))
    assert result["begun"] == list(range(EPOCHS)) and result["accuracy"] > 0.95
    return result


def test_training_resumes_after_sigkill(tmp_path, uninterrupted):
    process = start(tmp_path)
    seen = []
    deadline = time.monotonic() + 300
    for line in process.stdout:  # kill it as soon as two epochs have finished (and been backed up)
        seen.append(line)
        if line.strip() == "end 1" or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert "end 1\n" in seen, "".join(seen)
    assert (tmp_path / "backup" / "mnist_cnn").is_dir()

    resumed = finish(start(tmp_path))
    assert resumed["begun"] == list(range(2, EPOCHS)), "resumed run repeated finished epochs"
    # ...and reports the whole run: every epoch's history and time, the killed run's included.
    assert resumed["history"] == list(range(EPOCHS))
    assert len(resumed["seconds"]) == EPOCHS and min(resumed["seconds"]) > 0
    assert resumed["val_accuracy"][:2] == pytest.approx(uninterrupted["val_accuracy"][:2], abs=0.02)
    assert not list(tmp_path.rglob("*history.csv")), "a finished run deletes its history log"
    assert abs(resumed["accuracy"] - uninterrupted["accuracy"]) < 0.015
    assert not (tmp_path / "backup" / "mnist_cnn").exists(), "a finished run deletes its backup"


def test_deterministic_reruns_give_identical_weights(tmp_path, uninterrupted):
    rerun = finish(start(tmp_path))
    assert rerun["weights"] == uninterrupted["weights"]
    assert rerun["accuracy"] == uninterrupted["accuracy"]


def test_mirrored_strategy_on_two_logical_cpus(tmp_path, uninterrupted):
    mirrored = finish(start(tmp_path, "mirrored"))
    assert mirrored["replicas"] == 2
    assert abs(mirrored["accuracy"] - uninterrupted["accuracy"]) < 0.015
