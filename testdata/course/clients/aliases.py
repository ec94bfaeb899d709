#!/usr/bin/env python3
"""A course client that names the commands the HTTP way.

Usage: aliases.py HOST PORT COMMAND NAME [FILE]

COMMAND is POST or PUT for an upload (with FILE, sent in base64), or
DOWNLOAD for a get, whose reply carries the content under "data". The
request ends in "\\r\\n\\r\\n".

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
    host, port, command, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    request = "%s %s" % (command, name)
    if len(sys.argv) > 5:
        with open(sys.argv[5], "rb") as f:
            request += " " + base64.b64encode(f.read()).decode()
    request += "\r\n\r\n"

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
