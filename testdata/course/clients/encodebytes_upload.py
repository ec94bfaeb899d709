#!/usr/bin/env python3
"""A course client that encodes its upload with base64.encodebytes.

Usage: encodebytes_upload.py HOST PORT NAME FILE

encodebytes puts a "\\n" after every 76 characters and at the end, so the
request is "UPLOAD NAME <line>\\n<line>\\n...<last line>\\n\\r\\n\\r\\n".

Prints one JSON line: {"ok": ..., "replies": [...], "latency_ms": [...]},
the latency counted from the moment the whole request was sent.
"""
import base64
import sys

import course_client


def main():
    host, port, name, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open(path, "rb") as f:
        content = base64.encodebytes(f.read()).decode()
    course_client.run(host, port, ["UPLOAD %s %s\r\n\r\n" % (name, content)])


if __name__ == "__main__":
    main()
