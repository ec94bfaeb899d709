#!/usr/bin/env python3
"""A course client that ends its request with whatever its author chose.

Usage: terminators.py HOST PORT TERM COMMAND [NAME [FILE]]

TERM is how the request ends: none, crlf, lf, lflf or crlfcrlf. With FILE,
its content is sent base64-encoded after NAME (an upload). The client then
waits for the reply like course code does: recv until "\\r\\n\\r\\n".

Prints one JSON line: {"ok": ..., "replies": [...], "latency_ms": [...]},
the latency counted from the moment the whole request was sent.
"""
import base64
import json
import socket
import sys
import time

TERMINATORS = {"none": "", "crlf": "\r\n", "lf": "\n", "lflf": "\n\n", "crlfcrlf": "\r\n\r\n"}


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
    host, port, term, command = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    words = [command] + sys.argv[5:6]
    if len(sys.argv) > 6:
        with open(sys.argv[6], "rb") as f:
            words.append(base64.b64encode(f.read()).decode())
    request = " ".join(words) + TERMINATORS[term]

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
