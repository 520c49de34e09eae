"""`hexsandbox install` / `uninstall` (file-level; the e2e suite loads it in HexChat)."""

import os
import subprocess
import sys

import pytest

from hexsandbox import install as inst


def test_install_writes_loader_and_uninstall_removes_exactly_that(tmp_path):
    config = tmp_path / "hexchat"
    result = inst.install(str(config), python=sys.executable, require_plugin=False)
    loader = config / "addons" / inst.LOADER_NAME
    assert result.loader == str(loader) and loader.is_file()
    assert oct(loader.stat().st_mode & 0o777) == "0o600"
    text = loader.read_text()
    assert "__module_name__ = \"hexsandbox\"" in text
    assert f"hexsandbox.startup.tick(globals(), python={sys.executable!r})" in text
    assert "hexsandbox.startup.begin()" in text, "imported off the main thread"
    compile(text, str(loader), "exec")
    (config / "addons" / "mine.py").write_text("# the user's own in-process script\n")
    removed = inst.uninstall(str(config))
    assert str(loader) in removed
    assert not loader.exists()
    assert (config / "addons" / "mine.py").exists(), "never touches the user's files"
    assert not (config / "sandbox").exists(), "the empty folder install created is gone"


def test_uninstall_keeps_scripts_the_user_put_in_the_sandbox(tmp_path):
    config = tmp_path / "hexchat"
    inst.install(str(config), require_plugin=False)
    (config / "sandbox" / "keep.py").write_text("__module_name__ = 'keep'\n")
    inst.uninstall(str(config))
    assert (config / "sandbox" / "keep.py").exists()


def test_loader_paths_make_hexsandbox_importable_from_system_python(tmp_path):
    config = tmp_path / "hexchat"
    inst.install(str(config), require_plugin=False)
    text = (config / "addons" / inst.LOADER_NAME).read_text()
    paths_line = [l for l in text.splitlines() if l.startswith("sys.path[:0] = ")][0]
    code = paths_line + "\nimport hexsandbox.client, multiprocess, cloudpickle, dill\nprint('ok')"
    out = subprocess.run(["/usr/bin/python3", "-I", "-c", "import sys\n" + code],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_missing_python_plugin_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(inst, "find_python_plugin", lambda: None)
    with pytest.raises(inst.InstallError, match="apt install hexchat-python3"):
        inst.install(str(tmp_path / "hexchat"))


def test_python_version_mismatch_is_a_clear_error(tmp_path, monkeypatch):
    fake = tmp_path / "python.so"
    fake.write_bytes(b"\x7fELF....libpython3.99.so.1.0\x00")
    monkeypatch.setattr(inst, "find_python_plugin", lambda: str(fake))
    with pytest.raises(inst.InstallError, match="HexChat embeds Python 3.99"):
        inst.install(str(tmp_path / "hexchat"))


def test_real_debian_plugin_is_detected():
    plugin = inst.find_python_plugin()
    assert plugin is not None, "scripts/setup-system.sh installs hexchat-python3"
    assert inst.embedded_python_version(plugin) == "%d.%d" % sys.version_info[:2]


def test_config_dir_discovery(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert inst.find_config_dir() == str(tmp_path / ".config" / "hexchat")
    flatpak = tmp_path / ".var/app/io.github.Hexchat/config/hexchat"
    flatpak.mkdir(parents=True)
    assert inst.find_config_dir() == str(flatpak)
    assert inst.find_config_dir("~/x") == str(tmp_path / "x")


def test_cli_install_and_uninstall(tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "hexsandbox")
    out = subprocess.run([exe, "install", "--config-dir", str(tmp_path / "c")], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Installed the loader" in out.stdout
    out = subprocess.run([exe, "uninstall", "--config-dir", str(tmp_path / "c")], capture_output=True,
                         text=True, timeout=60)
    assert "Removed" in out.stdout


def test_import_paths_come_from_the_installed_metadata():
    """Every distribution hexsandbox requires (transitively: multiprocess
    needs dill) is found where it is installed; pyproject.toml is the one list."""
    import cloudpickle
    import dill
    import multiprocess

    paths = inst.import_paths()
    assert paths[0] == os.path.dirname(os.path.dirname(os.path.abspath(inst.__file__)))
    for module in (multiprocess, dill, cloudpickle):
        assert os.path.dirname(os.path.dirname(os.path.abspath(module.__file__))) in paths


def test_a_worker_python_without_hexsandbox_is_refused(tmp_path):
    with pytest.raises(inst.InstallError, match=r"the worker Python \(/usr/bin/python3\) cannot import "
                                                r"hexsandbox: ModuleNotFoundError"):
        inst.install(str(tmp_path / "hexchat"), python="/usr/bin/python3", require_plugin=False)
    assert not (tmp_path / "hexchat").exists(), "nothing written"


def test_paths_hexchat_cannot_import_from_are_refused(tmp_path):
    with pytest.raises(inst.InstallError, match=r"HexChat's Python \(/usr/bin/python3.11\) cannot import "
                                                r"hexsandbox"):
        inst.install(str(tmp_path / "hexchat"), paths=[str(tmp_path)])
    assert not (tmp_path / "hexchat").exists(), "nothing written"
