"""Turning "No module named 'requests'" into how to fix it.

The worker reports a failed load as ``ModuleNotFoundError: No module named
'x'`` (its ``load_failed`` note). The client calls :func:`missing_module_hint`
where it records that failure, and shows the line it returns, if any.
"""

from __future__ import annotations

import re
import sys
from typing import Optional

#: Import names whose PyPI distribution is called something else.
DISTRIBUTION_OF = {
    "yaml": "PyYAML", "bs4": "beautifulsoup4", "PIL": "Pillow", "dateutil": "python-dateutil",
    "Crypto": "pycryptodome", "OpenSSL": "pyOpenSSL", "magic": "python-magic",
    "dbus": "dbus-python", "gi": "PyGObject", "cv2": "opencv-python", "sklearn": "scikit-learn",
    "jwt": "PyJWT", "dns": "dnspython", "serial": "pyserial", "usb": "pyusb",
}

_MISSING_RE = re.compile(r"^ModuleNotFoundError: No module named '([^']+)'")

#: Modules a sandboxed script gets from hexsandbox itself, never from PyPI.
_NOT_FROM_PYPI = ("hexchat", "xchat", "_hexchat", "_hexchat_embedded")


def missing_module_hint(load_error: str, script_file: str) -> Optional[str]:
    """One line saying which module is missing and how to declare it, or
    None when ``load_error`` is not a missing third-party module."""
    match = _MISSING_RE.match(load_error or "")
    if match is None:
        return None
    top = match.group(1).split(".")[0]
    if top in _NOT_FROM_PYPI or top in getattr(sys, "stdlib_module_names", ()):
        return None
    package = DISTRIBUTION_OF.get(top, top)
    return (f"hexsandbox: {script_file} needs the module '{top}'. Declare it in the script "
            f"(a '# /// script' block with dependencies = [\"{package}\"]) "
            f"or type /sandbox deps {script_file} add {package}")
