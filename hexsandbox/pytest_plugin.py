"""pytest plugin (registered via the ``pytest11`` entry point).

``pip install hexsandbox`` is enough for a script author to write::

    def test_greets_joiners(hexchat_client):
        hexchat_client.load("greeter.py")
        hexchat_client.feed(":carol!c@host JOIN #test")
        assert "PRIVMSG #test :Hello carol!" in hexchat_client.sent

Each test gets a fresh emulated HexChat (connected, in ``#test`` with alice
and bob) in its own temp config dir; scripts run in real sandboxed workers.
Works under pytest-xdist (``-n auto``): nothing is shared between tests.

The same plugin brings ``pytest --hexsandbox-check DIR`` (each legacy script
a test item; :mod:`hexsandbox.check.collector`), so a CI that runs pytest
needs nothing else to smoke-test a folder of scripts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:  # imported when used: every pytest run in this Python loads the plugin
    from .testing import EmulatedClient

pytest_plugins = ("hexsandbox.check.collector",)


@pytest.fixture
def hexchat_client(tmp_path) -> Iterator["EmulatedClient"]:
    """A fresh emulated HexChat with sandboxed script loading."""
    from .testing import EmulatedClient

    config_dir = tmp_path / "hexchat-config"
    config_dir.mkdir()
    client = EmulatedClient(str(config_dir))
    try:
        yield client
    finally:
        client.close()
