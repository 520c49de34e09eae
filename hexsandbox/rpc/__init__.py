"""The wire: msgpack-RPC over length-prefixed frames (docs/protocol.md).

* :mod:`.framing` -- 4-byte big-endian length + body; non-blocking reads
  into a reassembly buffer; the length checked before the body is read;
* :mod:`.codec` -- msgpack, decoded as plain data only, linear time;
* :mod:`.messages` -- request / response / notification, and the session's
  own methods;
* :mod:`.session` -- one conversation: ids, pending calls, nested calls,
  flow control, cancellation; used by the client and the worker alike;
* :mod:`.trace` -- ``HEXSANDBOX_TRACE=FILE``;
* :mod:`.docs` -- generates docs/protocol.md from the API table.
"""
