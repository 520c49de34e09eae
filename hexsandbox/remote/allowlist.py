"""Which external applications the user allowed, remembered as token hashes.

An allowed application is given a random token (256 bits, ``secrets``); the
file keeps only its SHA-256. Why not scrypt or PBKDF2: those slow down the
guessing of *low-entropy* secrets such as passwords; a 256-bit random token
cannot be guessed at any speed, and a plain hash keeps the check (done on the
endpoint thread for every connection) to microseconds. Comparison is
constant-time (``hmac.compare_digest``).

The file (``paths.ALLOWLIST_NAME`` in HexChat's config dir, 0600) maps each
name to ``{"state": "allowed", "sha256": HEX}`` or ``{"state": "denied"}``.
A denied name is refused without asking again until the user allows it.
Allowing a name again issues a new token, so the old one goes stale.

``AllowAll`` is the emulator's test double (``hexsandbox emulate --listen``):
every application of the same user is allowed on first contact.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
import threading
from typing import Dict, List, Optional

from . import paths


class Verdict(enum.Enum):
    ALLOWED = "allowed"      # the token matches
    UNKNOWN = "unknown"      # ask the user
    DENIED = "denied"        # the user said no
    WRONG_TOKEN = "wrong"    # a token that is not (or no longer) the one issued


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AllowList:
    """The user's decisions. Thread-safe: the endpoint thread checks, the
    main thread (``/sandbox allow|deny``) changes."""

    def __init__(self, path: Optional[str]) -> None:
        #: None: kept in memory only (tests, the emulator).
        self.path = path
        self._lock = threading.Lock()
        self._entries: Dict[str, Dict[str, str]] = {}
        if path is not None:
            for name, entry in paths.read_json(path).items():
                if isinstance(entry, dict) and entry.get("state") in ("allowed", "denied"):
                    self._entries[str(name)] = {k: str(v) for k, v in entry.items()}

    def check(self, name: str, token: Optional[str]) -> Verdict:
        with self._lock:
            entry = self._entries.get(name)
        if entry is None:
            return Verdict.UNKNOWN
        if entry["state"] == "denied":
            return Verdict.DENIED
        if token is None:
            return Verdict.UNKNOWN  # allowed once, but this one has no token: ask again
        if hmac.compare_digest(entry.get("sha256", ""), _digest(token)):
            return Verdict.ALLOWED
        return Verdict.WRONG_TOKEN

    def allow(self, name: str) -> str:
        """Allow ``name``; returns its new token (the only copy)."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._entries[name] = {"state": "allowed", "sha256": _digest(token)}
            self._save()
        return token

    def deny(self, name: str) -> None:
        with self._lock:
            self._entries[name] = {"state": "denied"}
            self._save()

    def forget(self, name: str) -> None:
        """Neither allowed nor denied: its next connection asks the user."""
        with self._lock:
            self._entries.pop(name, None)
            self._save()

    def names(self, state: str) -> List[str]:
        with self._lock:
            return sorted(n for n, e in self._entries.items() if e["state"] == state)

    def _save(self) -> None:
        if self.path is not None:
            paths.write_private(self.path, json.dumps(self._entries, indent=1,
                                                      sort_keys=True).encode())


class AllowAll(AllowList):
    """Allows every name at first contact (the emulator's default)."""

    def __init__(self) -> None:
        super().__init__(None)

    def check(self, name: str, token: Optional[str]) -> Verdict:
        verdict = super().check(name, token)
        return Verdict.ALLOWED if verdict in (Verdict.UNKNOWN, Verdict.WRONG_TOKEN) else verdict
