"""What the sandbox keeps per script, and what it tells the user.

Plain records: the lifecycle state of a script, its worker and session, its
hooks, its lateness and crash history. The behaviour lives in the modules
that change them (``core``, ``hooks``, ``dispatcher``).
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from .. import endings, slow_policy, spawning
from ..restart_policy import RestartPolicy
from ..rpc.session import Session

__all__ = ["Report", "RestartPolicy", "SandboxError", "Script", "State"]


class State(enum.Enum):
    STARTING = "starting"    # spawned, script loading
    RUNNING = "running"
    UNLOADING = "unloading"  # unload hooks running
    STOPPED = "stopped"      # unloaded cleanly
    FAILED = "failed"        # the script did not load
    CRASHED = "crashed"      # the worker died


@dataclass
class Report:
    """Something the user was told (also kept for ``/sandbox`` and tests)."""

    script: str
    kind: str     # 'crash' | 'failed' | 'stopped' | 'late' | 'error' | 'protocol'
    text: str
    details: List[str] = field(default_factory=list)  # for /sandbox log (stderr tail)


class SandboxError(Exception):
    """A request to the sandbox that cannot be done (shown to the user)."""


@dataclass
class Script:
    """Client-side record of one sandboxed script and its worker."""

    path: str
    deadline_ms: int
    python: Optional[str]
    #: HexChat never waits for this script's hooks (``hooks = async``).
    hooks_async: bool = False
    #: Its load blocks HexChat's main loop until loaded, as /load does in
    #: process (False: autoloaded in the background; sandbox.starting).
    atomic: bool = True
    name: str = ""
    version: str = ""
    description: str = ""
    state: State = State.STARTING
    worker: Optional[spawning.StartedWorker] = None
    #: The conversation with the worker (hexsandbox.rpc.session).
    session: Optional[Session] = None
    scheduled: bool = False
    #: A hand-back of the socket to the dispatcher is queued (core._owner_done).
    give_back_queued: bool = False
    #: After a turn that used its whole budget (a flood), not served again
    #: before this time.monotonic() (see Sandbox._serve).
    rest_until: float = 0.0
    backend_hooks: Dict[int, object] = field(default_factory=dict)
    hook_names: Dict[int, str] = field(default_factory=dict)
    timers_due: Set[int] = field(default_factory=set)
    #: msgid of the hook call it did not answer in time (None: not late).
    late_call: Optional[int] = None
    late_since: float = 0.0
    missed_events: int = 0
    late_count: int = 0
    crash_times: List[float] = field(default_factory=list)
    gui: Optional[object] = None
    dead: bool = False
    #: Between unload() and the worker's "unloading" note: what it sent
    #: before it saw the unload is dropped, never run.
    discarding: bool = False
    dropped_reported: bool = False
    exitcode: Optional[int] = None
    load_error: str = ""
    life: endings.Life = field(default_factory=endings.Life)             # see endings
    slow: slow_policy.SlowRecord = field(default_factory=slow_policy.SlowRecord)
    #: An external application (hexsandbox.remote) rather than a worker we
    #: spawned: its ``worker`` is the connection (no process of ours, no
    #: sentinel); stopping it closes the connection, never kills a process.
    external: bool = False

    @property
    def label(self) -> str:
        return self.name or os.path.basename(self.path)

    @property
    def pid(self) -> Optional[int]:
        return self.worker.pid if self.worker else None

    @property
    def late(self) -> bool:
        return self.late_call is not None

    def hook_id(self, name: str) -> Optional[int]:
        """The id of the hook ``/sandbox`` lists as ``name`` (e.g.
        ``print 'Channel Message'``), for tools and benchmarks."""
        for hook_id, hook_name in self.hook_names.items():
            if hook_name == name:
                return hook_id
        return None
