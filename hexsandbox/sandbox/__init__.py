"""The sandbox client, by job.

* :mod:`.records` -- what is kept per script (``Script``, ``State``,
  ``Report``, ``RestartPolicy``, ``SandboxError``);
* :mod:`.core` -- ``Sandbox``: script lifecycle, serving workers' calls;
* :mod:`.hooks` -- hook forwarding (HexChat's event -> the worker's callback,
  with a deadline);
* :mod:`.deaths` -- reaping, dropping and restarting workers;
* :mod:`.dispatcher` -- the thread that reads every worker socket.

The conversation itself (framing, ids, flow control) is :mod:`hexsandbox.rpc`.
"""

from .core import Sandbox
from .records import Report, RestartPolicy, SandboxError, Script, State

__all__ = ["Report", "RestartPolicy", "Sandbox", "SandboxError", "Script", "State"]
