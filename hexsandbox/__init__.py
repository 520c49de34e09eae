"""hexsandbox: run HexChat Python scripts out of process.

Each script runs unchanged in its own worker process; a generated proxy
stands in for the ``hexchat``/``xchat`` modules and a serialising dispatcher
in the client runs every call on HexChat's main thread. See
``docs/architecture.md``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
