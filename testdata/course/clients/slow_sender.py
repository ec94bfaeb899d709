#!/usr/bin/env python3
"""A course client whose upload arrives in two parts, with a pause between.

Usage: slow_sender.py HOST PORT LAYOUT NAME FILE PAUSE_MS

Students' clients send while they read and encode the file, and their
networks stall: the pause stands for that. The request ends in
"\\r\\n\\r\\n". LAYOUT says where the pause falls:

  oneline      "UPLOAD NAME <first half of the base64>", pause, the rest
  encodebytes  "UPLOAD NAME <first half of the encodebytes lines>", the
               part ending in "\\n", pause, the rest
  nextline     "UPLOAD NAME\\r\\n", pause, the base64

Prints one JSON line: {"ok": ..., "replies": [...], "latency_ms": [...]},
the latency counted from the moment the whole request was sent.
"""
import base64
import sys
import time

import course_client


def main():
    host, port, layout, name, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    pause = int(sys.argv[6]) / 1000
    with open(path, "rb") as f:
        raw = f.read()
    if layout == "oneline":
        content = base64.b64encode(raw).decode()
        half = len(content) // 2
        parts = ["UPLOAD %s %s" % (name, content[:half]), content[half:] + "\r\n\r\n"]
    elif layout == "encodebytes":
        lines = base64.encodebytes(raw).decode().splitlines(keepends=True)
        half = len(lines) // 2
        parts = ["UPLOAD %s %s" % (name, "".join(lines[:half])), "".join(lines[half:]) + "\r\n\r\n"]
    elif layout == "nextline":
        parts = ["UPLOAD %s\r\n" % name, base64.b64encode(raw).decode() + "\r\n\r\n"]
    else:
        raise SystemExit("unknown layout " + layout)

    def send_with_pause(sock, parts, result):
        sock.sendall(parts[0].encode())
        time.sleep(pause)
        sock.sendall(parts[1].encode())

    course_client.run(host, port, [parts], send_with_pause)


if __name__ == "__main__":
    main()
