"""Drop-in ``hexchat`` and ``xchat`` modules for scripts running in a worker.

A worker puts this folder first on ``sys.path`` and also installs the proxy
modules in ``sys.modules`` before the script runs, so ``import hexchat`` and
``import xchat`` (the pre-2.10 name) both give the generated proxy bound to
that worker. Outside a worker these modules raise ImportError, as importing
``hexchat`` outside HexChat does.
"""
