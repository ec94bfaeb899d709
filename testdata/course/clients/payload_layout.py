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

    result = {"ok": False, "replies": [], "latency_ms": []}
    received = b""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect((host, port))
        sock.sendall(request.encode())
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
