"""Which addon HexChat's Python plugin autoloads first.

HexChat 2.16's Python plugin (``plugins/python/python.py``, ``autoload()``)
loads ``addons/*.py`` in ``os.listdir`` order, not sorted: on ext4 that is
the order of the names' hashes, on tmpfs the order the files were made in.
A probe that must see everything after it (a main-loop timer watching the
other scripts and the hexsandbox loader start) has to come first, so
:func:`make_first` renames it until the directory lists it first. The order
is a property of the directory on disk: nothing changes ``addons/`` between
this and HexChat's own listing, so HexChat sees the same order.
"""

from __future__ import annotations

import os
from typing import List

from .procs import HarnessError

#: Plenty for a hash order over a few dozen files: names that differ only
#: in a number hash close together, so it can take hundreds of tries (446
#: with 32 files on this machine's ext4, in 50 ms).
MAX_TRIES = 20000


def autoload_order(folder: str) -> List[str]:
    """The ``.py`` files of ``folder`` in the order the Python plugin loads them."""
    return [name for name in os.listdir(folder) if name.endswith(".py")]


def make_first(folder: str, name: str) -> str:
    """Rename ``folder/name`` (``NAME_k.py``) until it is the first ``.py``
    in :func:`autoload_order`; returns its final name.

    A new name lands at a new place in a hash order, and last in a creation
    order (oldest first); in that case the files before it are renamed away
    and back, which puts them after it."""
    stem = name[:-len(".py")]
    current = name
    for attempt in range(MAX_TRIES):
        order = autoload_order(folder)
        if order[0] == current:
            return current
        new = f"{stem}_{attempt}.py"
        os.rename(os.path.join(folder, current), os.path.join(folder, new))
        current = new
        order = autoload_order(folder)
        if order[-1] == current and len(order) > 1:
            for other in order[:-1]:
                path = os.path.join(folder, other)
                os.rename(path, path + ".moving")
                os.rename(path + ".moving", path)
    raise HarnessError(f"could not make {name} the first addon of {folder}: {autoload_order(folder)}")
