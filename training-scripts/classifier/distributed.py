"""Data-parallel training across the hosts of a SageMaker training job.

Who is who comes from the environment (classifier/cluster.py).

With one host nothing is initialised. With more, every host meets the others through a TCP store on the
leader within a bounded time, or fails with a `RendezvousError` naming who could not be reached, instead of
waiting for ever.
"""
from __future__ import annotations

import datetime
import time
from contextlib import contextmanager
from typing import Iterator, List, Sequence

import torch
import torch.distributed as dist
from torch import nn

from .cluster import Cluster

# A collective waits this long for a slow peer (an uneven epoch, the leader writing the model); a peer that
# dies closes its sockets, which fails the collective at once rather than after this.
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=30)
# The tensors this module hands to collectives, freed on the main thread once the process group is destroyed
# (process_group says why). A few per epoch: three numbers each.
_COLLECTIVE_TENSORS: List[torch.Tensor] = []


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
        # Tearing the group down holds the GIL while it waits for gloo's worker threads; a worker thread that drops
        # the last reference to a tensor Python created needs the GIL to free it, and the two wait on each other
        # for ever (seen as a host hung in destroy_process_group, py-spy showing both threads). So no collective's
        # tensor is freed by a worker thread: _COLLECTIVE_TENSORS keeps them until the group is gone, and the
        # barrier (which releases the GIL) lets the worker threads finish every earlier collective first.
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
        _COLLECTIVE_TENSORS.clear()


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def sum_over_ranks(values: Sequence[float], device: torch.device) -> List[float]:
    """Element-wise sums over every rank (float64, so counts stay exact); the values themselves alone."""
    if not is_initialized():
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    _COLLECTIVE_TENSORS.append(tensor)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def broadcast_buffers(model: nn.Module) -> None:
    """Gives every rank the leader's buffers (batch-norm statistics), which each rank's own batches moved."""
    if not is_initialized():
        return
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)
