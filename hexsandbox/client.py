"""Compatibility name: the sandbox client now lives in :mod:`hexsandbox.sandbox`.

``from hexsandbox.client import Sandbox, Script, State, Report,
RestartPolicy, SandboxError`` keeps working for tools and tests.
"""

from .sandbox import Report, RestartPolicy, Sandbox, SandboxError, Script, State

__all__ = ["Report", "RestartPolicy", "Sandbox", "SandboxError", "Script", "State"]
