#!/usr/bin/env python3
"""A course client that encodes its upload with base64.encodebytes.

Usage: encodebytes_upload.py HOST PORT NAME FILE

encodebytes puts a "\\n" after every 76 characters and at the end, so the
request is "UPLOAD NAME <line>\\n<line>\\n...<last line>\\n\\r\\n\\r\\n".

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
    host, port, name, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open(path, "rb") as f:
        content = base64.encodebytes(f.read()).decode()
    request = "UPLOAD %s %s\r\n\r\n" % (name, content)

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
