"""An exception escaping a hook callback prints as HexChat 2.16's python.py
prints it: the exception escapes its cffi callback and cffi reports it
through sys.unraisablehook, which shows the last exception only, never the
chain (issue 13)."""


def test_only_the_last_exception_of_a_chain_is_printed(hexchat_client):
    hexchat_client.load('''
        __module_name__ = "chained"
        import hexchat
        def cb(word, word_eol, userdata):
            try:
                {}["missing"]
            except KeyError:
                raise ValueError("second")
        hexchat.hook_command("BOOM", cb)
    ''')
    hexchat_client.type("/BOOM", "#test")
    hexchat_client.settle()
    lines = hexchat_client.lines("#test")
    start = lines.index("Traceback (most recent call last):")
    printed = lines[start:]
    assert printed[-1] == "ValueError: second"
    assert not any("During handling of the above exception" in line for line in lines)
    assert not any("KeyError" in line for line in lines), "the first exception is not shown"
    assert any(', in cb' in line for line in printed), "the script's own frame is shown"
