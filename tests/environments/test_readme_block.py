"""The README's dependency block, verbatim, loads in the fixture with what it declares."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_readme_script_with_a_dependency_block_loads(hexchat_client, cold_cache, tmp_path):
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "# /// script" in b]
    assert len(blocks) == 1
    path = tmp_path / "weather.py"
    path.write_text(blocks[0] + 'hexchat.prnt("requests " + requests.__version__)\n')
    script = hexchat_client.load(str(path))
    assert script.state.value == "running", script.load_error
    assert any(line.startswith("requests 2.") for line in hexchat_client.lines())
