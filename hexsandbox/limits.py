"""Resource limits, and their failures named.

A worker runs under an address-space limit (``memory_limit_mb``): a runaway
allocation is a ``MemoryError`` inside the script, not a machine-wide OOM
kill. A limit below what the interpreter itself needs would make every start
fail in a confusing way ("can't start new thread"), so the worker checks it
before anything else and leaves with :data:`EXIT_LIMIT_TOO_SMALL`, which the
client reports as "memory limit N MB is too small for Python" and never
retries.
"""

from __future__ import annotations

import os
import resource
from typing import Optional

#: Exit status of a worker whose memory limit cannot hold Python (EX_CONFIG).
EXIT_LIMIT_TOO_SMALL = 78

#: Address space a worker needs beyond what it uses at boot (22 MB here):
#: two threads' stacks (8 MB reserved each), the proxy modules, a script's
#: first imports. Measured on Debian 12: 56 MB starts a worker, 48 MB does not.
HEADROOM_MB = 32


def address_space_mb() -> Optional[int]:
    """This process's current virtual size (VmSize), in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def needed_mb() -> Optional[int]:
    now = address_space_mb()
    return None if now is None else now + HEADROOM_MB


def apply_memory_limit(limit_mb: int) -> None:
    """Limit our address space to ``limit_mb`` (0: no limit); leave at once,
    with a line on stderr, if that cannot hold a worker."""
    if limit_mb <= 0:
        return
    need = needed_mb()
    if need is not None and limit_mb < need:
        os.write(2, f"memory limit {limit_mb} MB is too small for Python "
                    f"(a worker needs about {need} MB)\n".encode())
        os._exit(EXIT_LIMIT_TOO_SMALL)
    limit = limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def refuse_oversized(method: str, size: int, limit: int) -> None:
    """The friendly side of the message-size limit: a call too big to send
    is refused in the worker, naming the call and the limit, and the script
    goes on (the client would otherwise drop the whole worker)."""
    if size > limit:
        cap = f"{limit // 1048576} MB" if limit >= 1048576 else f"{limit // 1024} KiB"
        raise ValueError(f"hexsandbox: {method}() refused: {size / 1048576:.1f} MB is more "
                         f"than the {cap} a call may carry")
