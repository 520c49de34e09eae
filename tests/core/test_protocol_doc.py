"""docs/protocol.md is generated from the table and the session's constants."""

import os

from hexsandbox import api_table
from hexsandbox.api_table import Traffic
from hexsandbox.rpc import docs

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "protocol.md")


def test_the_committed_protocol_doc_is_the_generators_output():
    with open(DOC, encoding="utf-8") as f:
        committed = f.read()
    assert committed == docs.generate(), "run: python -m hexsandbox.rpc.docs > docs/protocol.md"


def test_every_method_a_worker_may_send_is_documented():
    text = docs.generate()
    for call in api_table.CALLS:
        if call.traffic is not Traffic.LOCAL:
            assert f"| `{call.wire_name}` |" in text
    for note in api_table.CONTROL_NOTES:
        assert f"| `{note}` |" in text
