import os
import sys

import pytest

from hexsandbox.environments import prepare


@pytest.fixture
def cold_cache(tmp_path, monkeypatch):
    """A private, empty cache: hexsandbox's environments, and uv's and pip's
    own caches with them (all under XDG_CACHE_HOME), so a build is cold."""
    root = tmp_path / "cache"
    root.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    return root / "hexsandbox" / "envs"


@pytest.fixture
def base_python():
    """The interpreter the tests run: it has hexsandbox, and also iniconfig
    (pytest's), which an environment must not see."""
    return sys.executable


def write_script(folder, name, dependencies, body="", requires=None):
    lines = ["# /// script"]
    if requires:
        lines.append(f'# requires-python = "{requires}"')
    lines.append("# dependencies = [" + ", ".join(f'"{d}"' for d in dependencies) + "]")
    lines.append("# ///")
    path = os.path.join(str(folder), name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + f'\n__module_name__ = "{name[:-3]}"\nimport hexchat\n{body}\n')
    return path


@pytest.fixture(autouse=True)
def _forget_probes():
    """Each test probes interpreters afresh (the memo is per process)."""
    prepare.forget_probes()
    yield
    prepare.forget_probes()
