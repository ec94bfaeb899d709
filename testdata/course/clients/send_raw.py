#!/usr/bin/env python3
"""A buggy client: sends the bytes of a file exactly as they are.

Usage: send_raw.py HOST PORT FILE

For requests the server must refuse (a "../" name, a '*' in the base64, an
unknown command with a long payload): the test writes the request to FILE.

Prints one JSON line: {"ok": ..., "replies": [...], "latency_ms": [...]},
the latency counted from the moment the whole request was sent.
"""
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
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path, "rb") as f:
        request = f.read()

    result = {"ok": False, "replies": [], "latency_ms": []}
    received = b""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect((host, port))
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError) as e:
            # The server may answer a bad request before reading all of
            # it: its reply is what counts.
            result["send_error"] = str(e)
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
