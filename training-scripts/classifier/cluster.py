"""Which host of a SageMaker training job this process is, read from the environment without importing torch, so
train.py refuses an inconsistent cluster before the seconds torch takes to load.

Under `torchrun` (SageMaker's `torch_distributed` launcher) it is the torchrun convention: RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR, MASTER_PORT. Otherwise SageMaker starts one process per host and says which hosts there
are: SM_HOSTS (a JSON list, the same order on every host) and SM_CURRENT_HOST; the rank is this host's index in the
list and the first host is the leader, reached at MASTER_ADDR:MASTER_PORT when set (the PyTorch training toolkit
sets them to the first host and 7777; tests set 127.0.0.1 and a free port), else at the first host's name and port
7777.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import List, Mapping, Optional

DEFAULT_MASTER_PORT = 7777
DEFAULT_RENDEZVOUS_TIMEOUT_SECONDS = 600.0


class ClusterConfigError(ValueError):
    """The environment describing the cluster is inconsistent; the message names the variable."""


@dataclass(frozen=True)
class Cluster:
    world_size: int
    rank: int
    local_rank: int
    host: str
    master_addr: str
    master_port: int
    # torchrun's agent hosts the store itself; only a launcher-less cluster needs one of its own.
    launched_by_torchrun: bool = False

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_leader(self) -> bool:
        return self.rank == 0

    def describe(self) -> str:
        if not self.distributed:
            return "a single process"
        return f"host {self.host} (rank {self.rank} of {self.world_size})"


SINGLE_PROCESS = Cluster(world_size=1, rank=0, local_rank=0, host="localhost", master_addr="127.0.0.1",
                         master_port=DEFAULT_MASTER_PORT)


def _int_variable(env: Mapping[str, str], name: str, minimum: int) -> int:
    raw = env.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        raise ClusterConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ClusterConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _master_port(env: Mapping[str, str]) -> int:
    if not env.get("MASTER_PORT"):
        return DEFAULT_MASTER_PORT
    port = _int_variable(env, "MASTER_PORT", 1)
    if port > 65535:
        raise ClusterConfigError(f"MASTER_PORT must be a TCP port from 1 to 65535, got {port}")
    return port


def _sagemaker_hosts(env: Mapping[str, str]) -> Optional[List[str]]:
    raw = env.get("SM_HOSTS")
    if not raw:
        return None
    try:
        hosts = json.loads(raw)
    except json.JSONDecodeError:
        raise ClusterConfigError(f'SM_HOSTS must be a JSON list of host names such as ["algo-1","algo-2"], got {raw!r}') from None
    if not isinstance(hosts, list) or not hosts or not all(isinstance(host, str) and host for host in hosts):
        raise ClusterConfigError(f'SM_HOSTS must be a non-empty JSON list of host names such as ["algo-1","algo-2"], got {raw!r}')
    if len(set(hosts)) != len(hosts):
        raise ClusterConfigError(f"SM_HOSTS lists a host twice: {raw}")
    return hosts


def cluster_from_env(env: Mapping[str, str]) -> Cluster:
    """The cluster this process belongs to; a single process when nothing says otherwise."""
    if env.get("WORLD_SIZE") and env.get("RANK"):
        world_size = _int_variable(env, "WORLD_SIZE", 1)
        rank = _int_variable(env, "RANK", 0)
        if rank >= world_size:
            raise ClusterConfigError(f"RANK {rank} must be below WORLD_SIZE {world_size}")
        if world_size > 1 and not env.get("MASTER_ADDR"):
            raise ClusterConfigError("MASTER_ADDR must name the rank 0 host when WORLD_SIZE is above 1")
        return Cluster(
            world_size=world_size,
            rank=rank,
            local_rank=_int_variable(env, "LOCAL_RANK", 0) if env.get("LOCAL_RANK") else 0,
            host=env.get("SM_CURRENT_HOST") or f"rank-{rank}",
            master_addr=env.get("MASTER_ADDR") or "127.0.0.1",
            master_port=_master_port(env),
            launched_by_torchrun=bool(env.get("TORCHELASTIC_RUN_ID")),
        )
    hosts = _sagemaker_hosts(env)
    if hosts is None or len(hosts) == 1:
        return SINGLE_PROCESS
    current = env.get("SM_CURRENT_HOST", "")
    if current not in hosts:
        raise ClusterConfigError(f"SM_CURRENT_HOST {current!r} is not one of SM_HOSTS {json.dumps(hosts)}")
    return Cluster(
        world_size=len(hosts),
        rank=hosts.index(current),
        local_rank=0,
        host=current,
        master_addr=env.get("MASTER_ADDR") or hosts[0],
        master_port=_master_port(env),
    )
