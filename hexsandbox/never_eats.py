"""Can a hook callback be proven never to eat? (issue 14: a study, not in use)

A callback that provably returns only ``None``, ``0`` or ``hexchat.EAT_NONE``
could, in principle, be delivered one-way like an asynchronous hook without
the user setting ``hooks = async``. :func:`never_eats` decides that from the
callback's bytecode, conservatively: every ``return`` must hand back one of
those constants directly, no return may be a jump target (a value computed
on another branch could reach it), and generators and coroutines are out.

The answer to "does it never eat" is not the answer to "may it run later":
``benchmarks/never_eats_study.py`` measures, over the differential corpus,
how often a never-eating callback still changes what the user sees when it
runs one-way (a line it prints lands after the event's own line instead of
before it; a ``get_info`` reads a later state). The finding, recorded in
docs/architecture.md "Asynchronous hooks", is why detection stays off.
"""

from __future__ import annotations

import dis
import inspect
from typing import Any, List

#: The names a script reaches HexChat's constants by.
_MODULES = ("hexchat", "xchat")
_NEUTRAL = (None, 0)


def never_eats(callback: Any) -> bool:
    """True only if every path of ``callback`` returns None, 0 or EAT_NONE."""
    code = getattr(getattr(callback, "__func__", callback), "__code__", None)
    if code is None:
        return False  # a builtin, a partial, a callable object: not provable
    if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE
                        | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE):
        return False
    ins: List[dis.Instruction] = list(dis.get_instructions(code))
    for i, op in enumerate(ins):
        if op.opname == "RETURN_CONST":  # Python 3.12+
            if op.argval not in _NEUTRAL or isinstance(op.argval, float):
                return False
        elif op.opname == "RETURN_VALUE":
            if op.is_jump_target or i == 0 or not _neutral_value(ins, i - 1):
                return False
    return True


def _neutral_value(ins: List[dis.Instruction], i: int) -> bool:
    """Whether instruction ``i`` pushes None, 0 or EAT_NONE and nothing else."""
    op = ins[i]
    if op.opname == "LOAD_CONST":
        return op.argval is None or (type(op.argval) is int and op.argval == 0)
    if op.opname == "LOAD_GLOBAL":  # from hexchat import EAT_NONE
        return op.argval == "EAT_NONE" and not op.is_jump_target
    if op.opname == "LOAD_ATTR" and op.argval == "EAT_NONE" and i > 0:
        owner = ins[i - 1]
        return (owner.opname == "LOAD_GLOBAL" and owner.argval in _MODULES
                and not op.is_jump_target)
    return False
