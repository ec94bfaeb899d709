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
import json
import socket
import sys
import time


def recv_reply(sock):
    data_received = b""
    while True:
        data = sock.recv(65536)
        if not data:
            break
        data_received += data
        if b"\r\n\r\n" in data_received[-(len(data) + 3):]:
            break
    return data_received


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

    result = {"ok": False, "replies": [], "latency_ms": []}
    received = b""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect((host, port))
        sock.sendall(parts[0].encode())
        time.sleep(pause)
        sock.sendall(parts[1].encode())
        start = time.monotonic()
        received = recv_reply(sock)
        result["replies"].append(json.loads(received))
        result["latency_ms"].append(round((time.monotonic() - start) * 1000))
        result["ok"] = True
    except Exception as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
        result["received"] = received[:300].decode(errors="replace")
    finally:
        sock.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
