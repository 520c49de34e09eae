"""What a check result means: its verdict, its one-line note, and the
summary that pytest's JUnit report carries as testcase properties.

A result is plain data (a dict of str, bool, int and lists of str) so it can
cross from an xdist worker to the controller and be written as JSON as is.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

Result = Dict[str, Any]

OK, WARNING, FAILED = "ok", "warning", "failed"


def new_result(path: str, name: str) -> Result:
    """An empty result: nothing loaded, nothing seen yet."""
    return {"script": name, "path": path, "loaded": False, "load_error": "", "hooks": [],
            "commands": [], "exceptions": [], "late": [], "crash": "", "hung": False,
            "hung_unloading": False, "printed": [], "sent": []}


def verdict(r: Result) -> str:
    """``failed`` if it did not load, crashed or hung (the run could not go on
    with it); ``warning`` if a callback raised or answered late but recovered
    (HexChat went on, the script is probably buggy); ``ok`` otherwise."""
    if not r["loaded"] or r["crash"] or r["hung"] or r["hung_unloading"]:
        return FAILED
    if r["exceptions"] or r["late"]:
        return WARNING
    return OK


def note(r: Result) -> str:
    """The one line that says why (empty for ``ok``)."""
    if not r["loaded"] and r["load_error"]:
        return r["load_error"]
    if r["crash"]:  # also a crash while loading, which leaves no load_error
        return r["crash"]
    if not r["loaded"]:
        return "did not load"
    if r["hung"]:
        return "hung in a callback past the deadline; killed"
    if r["hung_unloading"]:
        return "did not finish its unload hooks; killed"
    if r["exceptions"]:
        return r["exceptions"][0].splitlines()[-1]
    if r["late"]:
        return "answered late"
    return ""


def finish(r: Result, seconds: float) -> Result:
    r["verdict"] = verdict(r)
    r["note"] = note(r)
    r["seconds"] = round(seconds, 2)
    return r


def properties(r: Result) -> List[Tuple[str, str]]:
    """Scalar summary for ``item.user_properties`` (JUnit ``<property>``s)."""
    props = [("hexsandbox.verdict", r["verdict"]), ("hexsandbox.loaded", str(r["loaded"]).lower()),
             ("hexsandbox.hooks", ", ".join(r["hooks"])),
             ("hexsandbox.commands_typed", str(len(r["commands"]))),
             ("hexsandbox.exceptions", str(len(r["exceptions"]))),
             ("hexsandbox.printed", str(len(r["printed"]))), ("hexsandbox.sent", str(len(r["sent"])))]
    if r["note"]:
        props.append(("hexsandbox.note", r["note"]))
    return props


def failure_text(r: Result) -> str:
    """What pytest shows for a failed script: the reason, then the tracebacks."""
    return "\n\n".join([f"{r['script']}: {r['note']}"] + r["late"] + r["exceptions"])


def transcript(r: Result, limit: int = 50) -> str:
    """A short human transcript (the item's captured output section)."""
    def block(title: str, items: List[str]) -> List[str]:
        more = [f"  ... {len(items) - limit} more"] if len(items) > limit else []
        return [f"{title} ({len(items)}):"] + [f"  {x}" for x in items[:limit]] + more

    return "\n".join([f"verdict: {r['verdict']}" + (f" ({r['note']})" if r["note"] else "")]
                     + block("hooks", r["hooks"]) + block("commands typed", r["commands"])
                     + block("printed", r["printed"]) + block("sent", r["sent"])
                     + block("exceptions", r["exceptions"]))
