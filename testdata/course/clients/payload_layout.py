#!/usr/bin/env python3
"""A course client that lays out its upload's payload its own way.

Usage: payload_layout.py HOST PORT LAYOUT NAME FILE

LAYOUT:
  nextline        "UPLOAD NAME\\r\\n<base64>\\r\\n\\r\\n"
  b64len          "UPLOAD NAME <len(base64)> <base64>\\r\\n\\r\\n"
  rawlen          "UPLOAD NAME <len(file)> <base64>\\r\\n\\r\\n"
  wronglen-long   as b64len, the number 8 too large
  wronglen-short  as rawlen, the number 1 too small

Prints one JSON line: {"ok": ..., "replies": [...], "latency_ms": [...]},
the latency counted from the moment the whole request was sent.
"""
import base64
import sys

import course_client


def main():
    host, port, layout, name, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    with open(path, "rb") as f:
        raw = f.read()
    content = base64.b64encode(raw).decode()
    if layout == "nextline":
        request = "UPLOAD %s\r\n%s\r\n\r\n" % (name, content)
    elif layout == "b64len":
        request = "UPLOAD %s %d %s\r\n\r\n" % (name, len(content), content)
    elif layout == "rawlen":
        request = "UPLOAD %s %d %s\r\n\r\n" % (name, len(raw), content)
    elif layout == "wronglen-long":
        request = "UPLOAD %s %d %s\r\n\r\n" % (name, len(content) + 8, content)
    elif layout == "wronglen-short":
        request = "UPLOAD %s %d %s\r\n\r\n" % (name, len(raw) - 1, content)
    else:
        raise SystemExit("unknown layout " + layout)
    course_client.run(host, port, [request])


if __name__ == "__main__":
    main()
