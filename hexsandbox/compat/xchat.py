"""``import xchat`` inside a hexsandbox worker: the generated API proxy."""

import sys

from hexsandbox.worker import proxy_module

sys.modules[__name__] = proxy_module("xchat")
