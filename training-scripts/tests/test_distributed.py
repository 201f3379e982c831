"""train.py as a two-host SageMaker training job on this machine: two processes, each with its own
SM_CURRENT_HOST, meeting at MASTER_ADDR=127.0.0.1 on a free port, training one DistributedDataParallel model."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from torch import nn
from torch.utils.data import DistributedSampler

from conftest import (
    CLASS_COLOURS, LABELS, SAGEMAKER_HYPERPARAMETERS, SCRIPTS_DIR, TrainedModel, colour_image, image_bytes,
    metric_values, sagemaker_env,
)
from classifier.artifacts import load_model_dir
from classifier.data import ShardSampler, load_data
from classifier.cluster import SINGLE_PROCESS, ClusterConfigError, cluster_from_env
from classifier.engine import evaluate, weights_digest

HOSTS = ["algo-1", "algo-2"]
DIGEST = re.compile(r"final weights sha256 ([0-9a-f]{64}) \(host (\S+) ")
# Long enough for a loaded machine to start the second process; a rendezvous normally takes a second.
RENDEZVOUS_TIMEOUT = ["--rendezvous-timeout", "120"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def host_env(data_dir: Path, root: Path, host: str, port: int) -> Dict[str, str]:
    """What SageMaker sets on one host of a two-instance job, with the rendezvous on loopback."""
    env = sagemaker_env(data_dir, root / host / "model", root / host / "output")
    env.update(SM_HOSTS=json.dumps(HOSTS), SM_CURRENT_HOST=host, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    return env


def start(args: List[str], env: Dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "train.py", *args], cwd=SCRIPTS_DIR, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@dataclass
class HostRun:
    host: str
    model_dir: Path
    output_dir: Path
    returncode: int
    stdout: str
    stderr: str


def run_cluster(data_dir: Path, root: Path, args: List[str]) -> Dict[str, HostRun]:
    port = free_port()
    envs = {host: host_env(data_dir, root, host, port) for host in HOSTS}
    processes = {host: start(args, envs[host]) for host in HOSTS}
    runs = {}
    for host, process in processes.items():
        stdout, stderr = process.communicate(timeout=300)
        runs[host] = HostRun(host, root / host / "model", root / host / "output", process.returncode, stdout, stderr)
    return runs


@pytest.fixture(scope="module")
def uneven_dataset(dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared dataset minus one test image: 11 test images do not split evenly over two hosts, which is
    where padding would count an image twice."""
    data = tmp_path_factory.mktemp("uneven") / "data"
    shutil.copytree(dataset_dir, data)
    next(iter(sorted((data / "test" / "001.red").iterdir()))).unlink()
    return data


@pytest.fixture(scope="module")
def cluster(uneven_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, HostRun]:
    runs = run_cluster(uneven_dataset, tmp_path_factory.mktemp("cluster"), SAGEMAKER_HYPERPARAMETERS + RENDEZVOUS_TIMEOUT)
    for run in runs.values():
        assert run.returncode == 0, f"{run.host}:\n{run.stdout}\n{run.stderr}"
    return runs


def test_both_hosts_end_with_the_weights_the_leader_saved(cluster: Dict[str, HostRun]) -> None:
    digests = {}
    for host, run in cluster.items():
        (match,) = DIGEST.findall(run.stdout)
        assert match[1] == host
        digests[host] = match[0]
    assert digests["algo-1"] == digests["algo-2"]
    saved = load_model_dir(str(cluster["algo-1"].model_dir))
    assert weights_digest(saved.model) == digests["algo-1"]


def test_only_the_leader_writes_outputs_and_metric_lines(cluster: Dict[str, HostRun], metric_regexes) -> None:
    leader, follower = cluster["algo-1"], cluster["algo-2"]
    assert (leader.model_dir / "model.pth").is_file() and (leader.output_dir / "metrics.json").is_file()
    assert not follower.model_dir.exists() and not follower.output_dir.exists()
    assert len(metric_values(leader.stdout, metric_regexes["validation:loss"])) == 3
    assert len(metric_values(leader.stdout, metric_regexes["test:loss"])) == 1
    for pattern in metric_regexes.values():
        assert metric_values(follower.stdout, pattern) == [], pattern.pattern
    assert "host algo-2 (rank 1 of 2)" in follower.stdout
    assert "Train Throughput:" in leader.stdout and "over 2 host(s)" in leader.stdout


def test_sharded_evaluation_is_exact(cluster: Dict[str, HostRun], uneven_dataset: Path, metric_regexes) -> None:
    """The leader's Testing Loss over both hosts' shards is the loss of one process over the whole split."""
    leader = cluster["algo-1"]
    saved = load_model_dir(str(leader.model_dir))
    data = load_data(str(uneven_dataset), 32, saved.config.mean, saved.config.std, batch_size=4, num_workers=0)
    assert len(data.test.dataset) == 11
    loss, accuracy = evaluate(saved.model, data.test, nn.CrossEntropyLoss(), torch.device("cpu"))
    (reported_loss,) = metric_values(leader.stdout, metric_regexes["test:loss"])
    (reported_accuracy,) = metric_values(leader.stdout, metric_regexes["test:accuracy"])
    assert reported_loss == pytest.approx(loss, rel=1e-5, abs=1e-9)
    assert reported_accuracy == pytest.approx(accuracy, abs=1e-6)


def test_accuracy_matches_one_host(cluster: Dict[str, HostRun], trained_model: TrainedModel, metric_regexes) -> None:
    (two_hosts,) = metric_values(cluster["algo-1"].stdout, metric_regexes["test:accuracy"])
    (one_host,) = metric_values(trained_model.result.stdout, metric_regexes["test:accuracy"])
    assert two_hosts >= 0.9 and abs(two_hosts - one_host) <= 0.1


def test_the_leaders_model_serves_through_inference(cluster: Dict[str, HostRun]) -> None:
    import inference

    model = inference.model_fn(str(cluster["algo-1"].model_dir))
    for index, colour in enumerate(CLASS_COLOURS.values()):
        request = inference.input_fn(image_bytes(colour_image(colour, seed=1000 + index), "PNG"), "image/png")
        body = json.loads(inference.output_fn(inference.predict_fn(request, model), "application/json"))
        assert body["predictions"][0]["label"] == LABELS[index]


def test_torchrun_variables_form_the_same_cluster(uneven_dataset: Path, tmp_path: Path) -> None:
    """What SageMaker's torch_distributed launcher sets instead: RANK, WORLD_SIZE, LOCAL_RANK and MASTER_*."""
    port = free_port()
    processes = []
    for rank in range(2):
        env = sagemaker_env(uneven_dataset, tmp_path / f"rank{rank}" / "model", tmp_path / f"rank{rank}" / "output")
        env.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), TORCHELASTIC_RUN_ID="test", SM_CURRENT_HOST="algo-1")
        processes.append(start(["--epochs", "1", *SAGEMAKER_HYPERPARAMETERS[2:], *RENDEZVOUS_TIMEOUT], env))
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stdout + stderr
    digests = [DIGEST.findall(stdout)[0][0] for stdout, _ in outputs]
    assert digests[0] == digests[1]
    assert (tmp_path / "rank0" / "model" / "model.pth").is_file()
    assert not (tmp_path / "rank1" / "model").exists()


@pytest.mark.parametrize("host, expected", [
    ("algo-2", "host algo-2 (rank 1 of 2) could not reach the leader at 127.0.0.1:{port} within 2 s"),
    ("algo-1", "host algo-1 (rank 0 of 2): rank(s) 1 of 2 did not join at 127.0.0.1:{port} within 2 s"),
])
def test_a_host_whose_peer_never_starts_fails_within_the_timeout(
    dataset_dir: Path, tmp_path: Path, host: str, expected: str,
) -> None:
    port = free_port()
    env = host_env(dataset_dir, tmp_path, host, port)
    # The subprocess timeout is only a guard against a hang; the rendezvous gives up after 2 s.
    result = subprocess.run([sys.executable, "train.py", *SAGEMAKER_HYPERPARAMETERS, "--rendezvous-timeout", "2"],
                            cwd=SCRIPTS_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert expected.format(port=port) in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / host / "model").exists()


@pytest.mark.parametrize("variables, message", [
    ({"SM_HOSTS": "algo-1,algo-2"}, "SM_HOSTS must be a JSON list of host names"),
    ({"SM_HOSTS": '["algo-1","algo-2"]', "SM_CURRENT_HOST": "algo-9"},
     "SM_CURRENT_HOST 'algo-9' is not one of SM_HOSTS"),
    ({"SM_HOSTS": '["algo-1","algo-1"]', "SM_CURRENT_HOST": "algo-1"}, "SM_HOSTS lists a host twice"),
    ({"SM_HOSTS": '["algo-1","algo-2"]', "SM_CURRENT_HOST": "algo-1", "MASTER_PORT": "70000"},
     "MASTER_PORT must be a TCP port from 1 to 65535"),
    ({"RANK": "2", "WORLD_SIZE": "2", "MASTER_ADDR": "10.0.0.1"}, "RANK 2 must be below WORLD_SIZE 2"),
    ({"RANK": "1", "WORLD_SIZE": "2"}, "MASTER_ADDR must name the rank 0 host"),
])
def test_an_inconsistent_cluster_environment_is_named(variables: Dict[str, str], message: str) -> None:
    with pytest.raises(ClusterConfigError, match=re.escape(message)):
        cluster_from_env(variables)


def test_the_cluster_comes_from_sagemakers_variables() -> None:
    assert cluster_from_env({}) == SINGLE_PROCESS
    assert cluster_from_env({"SM_HOSTS": '["algo-1"]', "SM_CURRENT_HOST": "algo-1"}) == SINGLE_PROCESS
    cluster = cluster_from_env({"SM_HOSTS": '["algo-1","algo-2","algo-3"]', "SM_CURRENT_HOST": "algo-3"})
    assert (cluster.world_size, cluster.rank, cluster.is_leader) == (3, 2, False)
    # Without MASTER_* the leader is the first host, on the port SageMaker's PyTorch toolkit uses.
    assert (cluster.master_addr, cluster.master_port) == ("algo-1", 7777)


def test_a_bad_cluster_environment_stops_train_py_with_the_variable_named(dataset_dir: Path, tmp_path: Path) -> None:
    env = sagemaker_env(dataset_dir, tmp_path / "m", tmp_path / "o")
    env.update(SM_HOSTS='["algo-1","algo-2"]', SM_CURRENT_HOST="algo-3")
    result = subprocess.run([sys.executable, "train.py", *SAGEMAKER_HYPERPARAMETERS], cwd=SCRIPTS_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "SM_CURRENT_HOST 'algo-3' is not one of SM_HOSTS" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("size, world_size", [(11, 2), (12, 5), (3, 4)])
def test_shards_cover_each_example_once_where_distributed_sampler_pads(size: int, world_size: int) -> None:
    shards = [list(ShardSampler(size, world_size, rank)) for rank in range(world_size)]
    assert sorted(index for shard in shards for index in shard) == list(range(size))
    padded = [list(DistributedSampler(range(size), world_size, rank, shuffle=False)) for rank in range(world_size)]
    assert sum(len(shard) for shard in padded) > size  # why evaluation does not use it
