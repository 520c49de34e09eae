"""Cache keys, what counts as a finished environment, ini edits, hints (no installers)."""

import os

from hexsandbox.environments import cache
from hexsandbox.environments.hints import missing_module_hint
from hexsandbox.environments.inifile import add_dependencies
from hexsandbox.config import load_settings


def test_key_names_interpreter_version_and_set():
    a = cache.make_key("/usr/bin/python3", (3, 11, 2), ["tomli-w", "six"])
    assert a == cache.make_key("/usr/bin/python3", (3, 11, 2, "final"), ["six", "tomli-w", "six"])
    assert a.digest == cache.make_key("/usr/bin/python3", [3, 11, 2], ["six", "tomli-w"]).digest
    others = [cache.make_key("/usr/bin/python3", (3, 11, 3), ["six", "tomli-w"]),
              cache.make_key("/opt/py/bin/python3", (3, 11, 2), ["six", "tomli-w"]),
              cache.make_key("/usr/bin/python3", (3, 11, 2), ["six"])]
    assert len({a.digest} | {k.digest for k in others}) == 4


def test_cache_root_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_root() == str(tmp_path / "hexsandbox" / "envs")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_root() == str(tmp_path / "home" / ".cache" / "hexsandbox" / "envs")


def _fake_env(root, key, marker=True, link_target=None):
    path = cache.env_dir(key, str(root))
    os.makedirs(os.path.join(path, "bin"))
    os.symlink("/bin/true", cache.env_python(path))
    os.makedirs(os.path.join(path, cache.RUNTIME_DIR))
    os.symlink(link_target or "/", os.path.join(path, cache.RUNTIME_DIR, "hexsandbox"))
    if marker:
        cache.write_marker(path, {"key": key.as_data(), "runtime": {"hexsandbox": "/"}})
    return path


def test_an_environment_without_its_marker_is_never_used(tmp_path):
    key = cache.make_key("/usr/bin/python3", (3, 11, 2), ["six"])
    _fake_env(tmp_path, key, marker=False)
    assert cache.lookup(key, str(tmp_path)) is None


def test_a_marker_for_another_key_or_unreadable_is_not_this_environment(tmp_path):
    key = cache.make_key("/usr/bin/python3", (3, 11, 2), ["six"])
    path = _fake_env(tmp_path, key)
    assert cache.lookup(key, str(tmp_path))[0] == path
    other = cache.make_key("/usr/bin/python3", (3, 11, 2), ["six>=2"])
    assert cache.usable(path, other) is None
    with open(os.path.join(path, cache.MARKER), "w") as f:
        f.write("{not json")
    assert cache.lookup(key, str(tmp_path)) is None


def test_a_broken_link_to_hexsandbox_makes_it_stale(tmp_path):
    key = cache.make_key("/usr/bin/python3", (3, 11, 2), ["six"])
    _fake_env(tmp_path, key, link_target=str(tmp_path / "moved-away"))
    assert cache.lookup(key, str(tmp_path)) is None


def test_hint_names_the_module_and_both_fixes():
    hint = missing_module_hint("ModuleNotFoundError: No module named 'requests'", "weather.py")
    assert "'requests'" in hint and "# /// script" in hint
    assert "/sandbox deps weather.py add requests" in hint
    assert missing_module_hint("ModuleNotFoundError: No module named 'yaml.loader'", "w.py").endswith(
        "add PyYAML")


def test_no_hint_for_other_failures_or_stdlib_or_hexchat():
    assert missing_module_hint("SyntaxError: invalid syntax (x.py, line 1)", "x.py") is None
    assert missing_module_hint("ModuleNotFoundError: No module named 'tkinter'", "x.py") is None
    assert missing_module_hint("ModuleNotFoundError: No module named 'xchat'", "x.py") is None


def test_add_dependency_keeps_the_rest_of_the_ini(tmp_path):
    ini = tmp_path / "sandbox" / "hexsandbox.ini"
    ini.parent.mkdir()
    ini.write_text("; my settings\n[defaults]\ndeadline_ms = 700 ; slow box\n\n"
                   "[script:weather.py]\n# comment\ndependencies = requests\n    lxml\nautoload = no\n")
    assert add_dependencies(str(tmp_path), "weather.py", ["tomli-w", "Requests"]) == [
        "requests", "lxml", "tomli-w"]
    text = ini.read_text()
    assert text.startswith("; my settings\n[defaults]\ndeadline_ms = 700 ; slow box\n")
    assert "# comment\ndependencies = requests, lxml, tomli-w\nautoload = no\n" in text
    settings = load_settings(str(tmp_path))
    assert settings.deadline_ms == 700 and settings.for_script("weather.py").autoload is False


def test_add_dependency_creates_file_and_section(tmp_path):
    assert add_dependencies(str(tmp_path), "a.py", ["six"]) == ["six"]
    add_dependencies(str(tmp_path), "b.py", ["tomli-w"])
    settings = load_settings(str(tmp_path))
    assert settings.script_option("a.py", "dependencies") == "six"
    assert settings.script_option("/any/dir/b.py", "dependencies") == "tomli-w"
    assert settings.script_option("c.py", "dependencies") is None


def test_installer_error_tail_is_one_line_with_wrapped_sentences_joined():
    from hexsandbox.environments.build import error_tail

    uv = ("Using Python 3.11.2 environment at: /x\n"
          "  × No solution found when resolving dependencies:\n"
          "  ╰─▶ Because nope was not found in the package registry and you\n"
          "      require nope, we can conclude that your requirements are\n"
          "      unsatisfiable.\n")
    assert error_tail(uv) == ("No solution found when resolving dependencies: | Because nope was not "
                              "found in the package registry and you require nope, we can conclude "
                              "that your requirements are unsatisfiable.")
    pip = ("WARNING: Location 'file:///opt/x' is ignored\n"
           "ERROR: Could not find a version that satisfies the requirement nope (from versions: none)\n"
           "ERROR: No matching distribution found for nope\n")
    assert error_tail(pip) == ("ERROR: Could not find a version that satisfies the requirement nope "
                               "(from versions: none) | ERROR: No matching distribution found for nope")


def test_add_dependency_goes_into_a_section_named_without_py(tmp_path):
    ini = tmp_path / "sandbox" / "hexsandbox.ini"
    ini.parent.mkdir()
    ini.write_text("[script:weather]\ndeadline_ms = 900\n")
    add_dependencies(str(tmp_path), "weather.py", ["six"])
    assert ini.read_text() == "[script:weather]\ndependencies = six\ndeadline_ms = 900\n"
    settings = load_settings(str(tmp_path))
    assert settings.script_option("weather.py", "dependencies") == "six"
    assert settings.for_script("weather.py").deadline_ms == 900
