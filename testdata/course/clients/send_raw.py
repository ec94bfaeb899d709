#!/usr/bin/env python3
"""A buggy client: sends the bytes of a file exactly as they are.

Usage: send_raw.py HOST PORT FILE

For requests the server must refuse (a "../" name, a '*' in the base64, an
unknown command with a long payload): the test writes the request to FILE.

Prints one JSON line: {"ok": ..., "replies": [...], "latency_ms": [...]},
the latency counted from the moment the whole request was sent.
"""
import sys

import course_client


def send_raw(sock, request, result):
    try:
        sock.sendall(request)
    except (BrokenPipeError, ConnectionResetError) as e:
        # The server may answer a bad request before reading all of
        # it: its reply is what counts.
        result["send_error"] = str(e)


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path, "rb") as f:
        request = f.read()
    course_client.run(host, port, [request], send_raw)


if __name__ == "__main__":
    main()
