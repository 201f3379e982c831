"""Data-parallel training across the hosts of a SageMaker training job.

Who is who comes from the environment. Under `torchrun` (SageMaker's `torch_distributed` launcher) it is the
torchrun convention: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT. Otherwise SageMaker starts one
process per host and says which hosts there are: SM_HOSTS (a JSON list, the same order on every host) and
SM_CURRENT_HOST; the rank is this host's index in the list and the first host is the leader, reached at
MASTER_ADDR:MASTER_PORT when set (the PyTorch training toolkit sets them to the first host and 7777; tests set
127.0.0.1 and a free port), else at the first host's name and port 7777.

With one host nothing is initialised. With more, every host meets the others through a TCP store on the
leader within a bounded time, or fails with a `RendezvousError` naming who could not be reached, instead of
waiting for ever.
"""
from __future__ import annotations

import datetime
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, List, Mapping, Optional, Sequence

import torch
import torch.distributed as dist
from torch import nn

DEFAULT_MASTER_PORT = 7777
DEFAULT_RENDEZVOUS_TIMEOUT_SECONDS = 600.0
# A collective waits this long for a slow peer (an uneven epoch, the leader writing the model); a peer that
# dies closes its sockets, which fails the collective at once rather than after this.
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=30)


class ClusterConfigError(ValueError):
    """The environment describing the cluster is inconsistent; the message names the variable."""


class ClusterError(RuntimeError):
    """The hosts could not work together; the message says which host and what it could not do."""


class RendezvousError(ClusterError):
    """This process could not meet the others in time; the message says who and where."""


class PeerLostError(ClusterError):
    """A collective failed because another host went away (it failed, or was stopped) mid-training."""


def _is_communication_error(error: RuntimeError) -> bool:
    # The backends raise plain RuntimeErrors; only their text tells a lost peer from, say, running out of memory.
    text = str(error)
    return "gloo" in text or "NCCL" in text or "Connection reset by peer" in text or "Connection closed by peer" in text


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


def device_for(cluster: Cluster) -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", cluster.local_rank)
    return torch.device("cpu")


def _meet(cluster: Cluster, timeout: datetime.timedelta) -> dist.TCPStore:
    """Connects to the leader's store and waits until every rank has checked in, both within `timeout`."""
    seconds = f"{timeout.total_seconds():g} s"
    where = f"{cluster.master_addr}:{cluster.master_port}"
    try:
        store = dist.TCPStore(cluster.master_addr, cluster.master_port, cluster.world_size, cluster.is_leader,
                              timeout, wait_for_workers=False)
    except (RuntimeError, OSError) as error:
        if cluster.is_leader:
            raise RendezvousError(
                f"{cluster.describe()} could not listen on {where} for the other hosts: {error}"
            ) from None
        raise RendezvousError(
            f"{cluster.describe()} could not reach the leader at {where} within {seconds}: {str(error).rstrip('.')}. "
            "Check that the first host started and that the port is open between the hosts"
        ) from None
    store.set(f"joined/{cluster.rank}", cluster.host)
    deadline = time.monotonic() + timeout.total_seconds()
    missing = []
    for rank in range(cluster.world_size):
        # Past the deadline each remaining rank gets a moment, enough to tell who else is missing.
        remaining = max(deadline - time.monotonic(), 0.05)
        try:
            store.wait([f"joined/{rank}"], datetime.timedelta(seconds=remaining))
        except RuntimeError:
            missing.append(str(rank))
    if missing:
        raise RendezvousError(
            f"{cluster.describe()}: rank(s) {', '.join(missing)} of {cluster.world_size} did not join at "
            f"{where} within {seconds}; a host that failed before training shows why in its own log"
        )
    return store


@contextmanager
def process_group(cluster: Cluster, rendezvous_timeout: datetime.timedelta) -> Iterator[None]:
    """Joins the cluster's process group for the duration of the block; does nothing for a single process."""
    if not cluster.distributed:
        yield
        return
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if cluster.launched_by_torchrun:
        # torchrun's agent already holds the store; PyTorch's env:// connects to it. The one timeout bounds
        # joining and, afterwards, every collective.
        try:
            dist.init_process_group(backend, init_method="env://", timeout=rendezvous_timeout)
        except (RuntimeError, OSError) as error:
            raise RendezvousError(
                f"{cluster.describe()} could not join the others at {cluster.master_addr}:{cluster.master_port}: {error}"
            ) from None
    else:
        store = _meet(cluster, rendezvous_timeout)
        dist.init_process_group(backend, store=store, rank=cluster.rank, world_size=cluster.world_size,
                                timeout=COLLECTIVE_TIMEOUT)
    try:
        yield
        # Tearing the group down holds the GIL while it waits for gloo's worker threads; a worker thread still
        # releasing the last all_reduce's tensors needs the GIL to free them, and the two wait on each other for
        # ever (seen as a host hung in destroy_process_group). Waiting at a barrier, which releases the GIL,
        # lets the worker threads finish with every earlier collective first.
        dist.barrier()
    except RuntimeError as error:
        if isinstance(error, ClusterError) or not _is_communication_error(error):
            raise
        raise PeerLostError(
            f"{cluster.describe()} lost contact with the other hosts: {error}; the host that stopped first "
            "shows why in its own log"
        ) from None
    finally:
        dist.destroy_process_group()


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def sum_over_ranks(values: Sequence[float], device: torch.device) -> List[float]:
    """Element-wise sums over every rank (float64, so counts stay exact); the values themselves alone."""
    if not is_initialized():
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def broadcast_buffers(model: nn.Module) -> None:
    """Gives every rank the leader's buffers (batch-norm statistics), which each rank's own batches moved."""
    if not is_initialized():
        return
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)
