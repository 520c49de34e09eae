"""Real builds with uv and with pip from PyPI (tiny pure-Python packages).

pip here reads the machine's pip.conf (extra index, find-links, constraints);
uv reads none of it and goes to PyPI: both must give the same environments.
"""

import glob
import os
import subprocess
import threading

import pytest

from hexsandbox.environments import cache
from hexsandbox.environments.build import Build, BuildError, choose_installer
from hexsandbox.environments.metadata import MetadataError
from hexsandbox.environments.prepare import known_version, python_for, quick, read_needs

from .conftest import write_script

INSTALLERS = ["uv", "pip"]


@pytest.fixture(params=INSTALLERS)
def installer(request, monkeypatch):
    monkeypatch.setenv("HEXSANDBOX_INSTALLER", request.param)
    return request.param


def run_in(python, code):
    return subprocess.run([python, "-c", code], capture_output=True, text=True, cwd="/", timeout=60)


def leftovers(root):
    return glob.glob(os.path.join(str(root), cache.BUILDING_PREFIX + "*"))


def test_environment_holds_exactly_the_declared_packages(installer, cold_cache, base_python, tmp_path):
    path = write_script(tmp_path, "toml.py", ["tomli-w"])
    python = python_for(path, None)
    assert python.startswith(str(cold_cache))
    marker = cache.read_marker(os.path.dirname(os.path.dirname(python)))
    assert marker["installer"].startswith(installer)
    assert {n.lower().replace("_", "-") for n in marker["installed"]} == {"tomli-w"}
    assert run_in(python, "import tomli_w, hexsandbox.worker, multiprocess.connection, cloudpickle").returncode == 0
    # iniconfig is in the base interpreter's site-packages; the environment must not see it.
    assert run_in(base_python, "import iniconfig").returncode == 0
    leak = run_in(python, "import iniconfig")
    assert "No module named 'iniconfig'" in leak.stderr
    assert leftovers(cold_cache) == []


def test_a_second_load_reuses_it_without_running_anything(cold_cache, base_python, tmp_path):
    path = write_script(tmp_path, "toml.py", ["tomli-w"])
    needs = read_needs(path)
    assert quick(needs, base_python, None) is None       # cold: work to do
    first = python_for(path, None)
    ready = quick(needs, base_python, None)              # warm: no process runs in quick()
    assert ready is not None and ready.python == first
    other = write_script(tmp_path, "other.py", ["Tomli_W"])  # same set, other spelling
    assert python_for(other, None) == first


@pytest.mark.parametrize("bad", ["tomli-w-does-not-exist-hexsandbox", "tomli-w==999.0.0"])
def test_unknown_package_or_version_is_one_line_and_leaves_nothing(installer, cold_cache, tmp_path, bad):
    path = write_script(tmp_path, "bad.py", [bad])
    with pytest.raises(BuildError) as info:
        python_for(path, None)
    message = str(info.value)
    assert "\n" not in message and message.startswith("installing failed: ")
    assert bad.split("=")[0] in message, message           # the installer's own words name it
    assert os.listdir(str(cold_cache)) == []             # no environment, no temporary build


def test_bad_specifier_is_refused_before_any_installer_runs(cold_cache, tmp_path):
    path = write_script(tmp_path, "bad.py", ["tomli-w>>1"])
    with pytest.raises(MetadataError, match="bad version specifier"):
        python_for(path, None)
    assert not os.path.exists(str(cold_cache))


def test_offline_is_one_line_and_leaves_nothing(installer, cold_cache, tmp_path, monkeypatch):
    # Nothing listens on port 9 of loopback: every index request is refused.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no extra index or find-links from pip.conf
    path = write_script(tmp_path, "offline.py", ["tomli-w"])
    with pytest.raises(BuildError) as info:
        python_for(path, None)
    assert "\n" not in str(info.value) and str(info.value).startswith("installing failed: ")
    assert os.listdir(str(cold_cache)) == []


def test_concurrent_builds_of_one_set_agree(cold_cache, base_python):
    key = cache.make_key(base_python, known_version(base_python), ["tomli-w"])
    results, errors = [], []

    def build():
        try:
            results.append(Build(key).run())
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert {r.path for r in results} == {cache.env_dir(key)}
    assert sorted(r.built for r in results) == [False, True]
    assert leftovers(cold_cache) == []


def test_cancel_stops_the_installer_and_leaves_nothing(cold_cache, base_python):
    key = cache.make_key(base_python, known_version(base_python), ["tomli-w"])
    build = Build(key)
    build.cancel()
    with pytest.raises(BuildError, match="cancelled"):
        build.run()
    assert os.listdir(str(cold_cache)) == []


def test_a_dead_builds_leftovers_are_never_used_and_get_swept(cold_cache, base_python, tmp_path):
    key = cache.make_key(base_python, known_version(base_python), ["tomli-w"])
    os.makedirs(str(cold_cache))
    stale = os.path.join(str(cold_cache), f"{cache.BUILDING_PREFIX}{key.digest}-dead")
    os.makedirs(os.path.join(stale, "bin"))
    os.utime(stale, (1, 1))
    half = cache.env_dir(key)      # as if renamed without a marker: never happens, never used
    os.makedirs(half)
    assert cache.lookup(key) is None
    built = Build(key).run()
    assert built.path == half and built.built
    assert cache.lookup(key) is not None
    assert not os.path.exists(stale)


def test_an_interpreter_that_cannot_run_the_worker_is_named(cold_cache, tmp_path):
    # Debian's python3 has no multiprocess (hexsandbox lives in our venv).
    path = write_script(tmp_path, "toml.py", ["tomli-w"])
    with pytest.raises(BuildError, match=r"^/usr/bin/python3 cannot import hexsandbox"):
        python_for(path, "/usr/bin/python3")
    with pytest.raises(BuildError, match="not an executable Python"):
        python_for(path, str(tmp_path / "no-such-python"))


def test_requires_python_is_checked_before_anything_is_installed(cold_cache, tmp_path):
    path = write_script(tmp_path, "new.py", ["tomli-w"], requires=">=3.99")
    with pytest.raises(MetadataError, match=r"requires Python >=3.99, but .* is 3\."):
        python_for(path, None)
    assert not os.path.exists(str(cold_cache))


def test_installer_choice(monkeypatch, base_python):
    monkeypatch.setenv("HEXSANDBOX_INSTALLER", "pip")
    assert choose_installer(base_python).name == "pip"
    monkeypatch.setenv("HEXSANDBOX_INSTALLER", "auto")
    assert choose_installer(base_python).name == "uv"    # the test extra installs uv beside us
    monkeypatch.setenv("HEXSANDBOX_INSTALLER", "uv")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert choose_installer(base_python).uv is not None
