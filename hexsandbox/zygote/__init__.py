"""The zygote: a clean interpreter that forks workers on request.

Starting a worker by exec costs ~95 ms (a fresh interpreter importing
hexsandbox) and ~12 MB of private memory each. A zygote is started the way a
worker is (exec, never a fork of HexChat), imports everything a worker needs
once, and then forks one child per worker: the child is ready in a few
milliseconds and shares the zygote's pages until it writes them.

* :mod:`.server` is the zygote process (preload, fork, reap);
* :mod:`.client` is HexChat's side (one zygote per interpreter, the process
  objects of its workers, the fallback to spawn);
* :mod:`.wire` is the datagram format between the two (JSON, size-limited,
  descriptors by ``SCM_RIGHTS``).

docs/architecture.md, section "Zygote", has the why of each choice.
"""
