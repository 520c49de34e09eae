"""/sandbox stack's cut of a worker dump, on faulthandler's format (the
receiver thread's own format is covered on a live worker in test_commands)."""

from hexsandbox.stacks import script_view

SCRIPT = "/home/u/.config/hexchat/sandbox/hang.py"

FAULTHANDLER_DUMP = f'''\
Thread 0x00007f0000000002 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 320 in wait
  File "/opt/venv/lib/python3.11/site-packages/hexsandbox/worker.py", line 200 in _receive
  File "/usr/lib/python3.11/threading.py", line 975 in run
  File "/usr/lib/python3.11/threading.py", line 1038 in _bootstrap_inner
  File "/usr/lib/python3.11/threading.py", line 995 in _bootstrap

Thread 0x00007f0000000003 (most recent call first):
  File "/usr/lib/python3.11/socket.py", line 705 in readinto
  File "{SCRIPT}", line 4 in fetch
  File "/usr/lib/python3.11/threading.py", line 975 in run
  File "/usr/lib/python3.11/threading.py", line 995 in _bootstrap

Current thread 0x00007f0000000001 (most recent call first):
  File "{SCRIPT}", line 9 in hang
  File "/opt/venv/lib/python3.11/site-packages/hexsandbox/worker.py", line 329 in _run_hook
  File "/opt/venv/lib/python3.11/site-packages/multiprocess/process.py", line 108 in run
  File "<string>", line 1 in <module>
'''


def test_faulthandler_dump_keeps_the_scripts_threads_and_frames():
    text, hidden = script_view(FAULTHANDLER_DUMP, SCRIPT)
    assert text.splitlines() == [
        "Thread 0x00007f0000000003 (most recent call first):",
        '  File "/usr/lib/python3.11/socket.py", line 705 in readinto',
        f'  File "{SCRIPT}", line 4 in fetch',
        "",
        "Current thread 0x00007f0000000001 (most recent call first):",
        f'  File "{SCRIPT}", line 9 in hang',
    ]
    assert hidden == 5 + 2 + 3


def test_a_script_under_a_folder_named_hexsandbox_keeps_its_frames():
    script = "/home/u/hexsandbox/mine.py"
    dump = f'--- callback thread (1) ---\n  File "{script}", line 3, in cb\n    spin()\n'
    assert script_view(dump, script) == (dump.rstrip("\n"), 0)
