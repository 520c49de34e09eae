# crasher.py - misbehaves on purpose, to test crash handling
#
# /CRASH exc    raise ZeroDivisionError in the command callback
# /CRASH exit   sys.exit(3) inside the callback
# /CRASH abort  os.abort()                (SIGABRT)
# /CRASH segv   read address 0 via ctypes (SIGSEGV)
# /CRASH oom    allocate memory until the process dies   ** sandbox only **
#
# exit/abort/segv take the whole process down.  In HexChat's own in-process
# Python plugin that process is HexChat itself, so only use those in a
# sandbox, or in a HexChat you don't mind losing.
#
# "oom" is guarded twice so a differential (in-process) run can never
# trigger it by accident:
#   1. it must be armed: environment variable CRASHER_ALLOW_OOM=1, or the
#      plugin preference crasher_allow_oom = 1;
#   2. the process must have an address-space limit (RLIMIT_AS), as
#      hexsandbox workers do; without one it would eat the machine's memory.

import ctypes
import os
import sys

import hexchat

try:
    import resource
except ImportError:      # not on Windows
    resource = None

__module_name__ = "crasher"
__module_version__ = "0.1"
__module_description__ = "Crashes on demand (for sandbox tests)"

USAGE = "Usage: /CRASH exc|exit|abort|segv|oom"


def oom_allowed():
    armed = os.environ.get("CRASHER_ALLOW_OOM") == "1" or \
        hexchat.get_pluginpref("crasher_allow_oom") == 1
    if not armed:
        return "not armed (set CRASHER_ALLOW_OOM=1 or pluginpref crasher_allow_oom=1)"
    if resource is None:
        return "no resource module, can't check the memory limit"
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return "no address-space limit on this process (in-process run?)"
    return None


def eat_memory():
    hoard = []
    size = 64 * 1024 * 1024
    while True:
        try:
            hoard.append(bytearray(size))
        except MemoryError:
            # keep going with smaller and smaller pieces until even
            # raising MemoryError can't be done any more
            if size > 16:
                size //= 2
            hoard.append(bytearray(size))


def crash_cmd(word, word_eol, userdata):
    if len(word) < 2:
        hexchat.prnt(USAGE)
        return hexchat.EAT_ALL
    how = word[1].lower()
    if how == "exc":
        hexchat.prnt("CRASH: raising ZeroDivisionError")
        return 1 // 0
    elif how == "exit":
        hexchat.prnt("CRASH: sys.exit(3)")
        sys.exit(3)
    elif how == "abort":
        hexchat.prnt("CRASH: os.abort()")
        os.abort()
    elif how == "segv":
        hexchat.prnt("CRASH: reading address 0")
        ctypes.string_at(0)
    elif how == "oom":
        why = oom_allowed()
        if why is not None:
            hexchat.prnt("CRASH: oom refused: " + why)
            return hexchat.EAT_ALL
        hexchat.prnt("CRASH: eating memory")
        eat_memory()
    else:
        hexchat.prnt(USAGE)
    return hexchat.EAT_ALL


hexchat.hook_command("CRASH", crash_cmd, help=USAGE)

print("crasher loaded - /CRASH exc|exit|abort|segv|oom")
