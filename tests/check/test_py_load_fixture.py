"""The fixture and check: /py load goes through the sandbox; load refusals are named."""

def test_py_load_in_fixture(hexchat_client, tmp_path):
    p = tmp_path / "hello.py"
    p.write_text('__module_name__ = "hello"\n__module_version__ = "1"\n__module_description__ = "d"\nimport hexchat\nhexchat.prnt("hi from py load")\n')
    hexchat_client.command(f"py load {p}")
    hexchat_client.wait_for_line("hi from py load")


def test_check_names_why_declared_packages_failed(tmp_path):
    """A script whose PEP 723 block cannot be satisfied is 'failed' with the
    reason in its row, not a bare 'did not load'."""
    from hexsandbox.check.runner import check_script

    p = tmp_path / "needs.py"
    p.write_text('# /// script\n# dependencies = ["tomli-w>>1"]\n# ///\n'
                 '__module_name__ = "needs"\nimport hexchat\n')
    result = check_script(str(p))
    assert result["loaded"] is False
    assert "tomli-w>>1" in result["load_error"]
