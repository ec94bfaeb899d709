#!/usr/bin/env python3
"""A course client that writes commands in lower case and quotes names.

Usage: case_and_quotes.py HOST PORT CASE QUOTE COMMAND [NAME [FILE]]

CASE "lower" sends the command as list/get/upload, "upper" as written.
QUOTE "yes" sends the name in double quotes ('GET "my file.txt"'). With
FILE, its base64 content follows the name. The request ends in
"\\r\\n\\r\\n".

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
    host, port, case, quote, command = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    if case == "lower":
        command = command.lower()
    words = [command]
    if len(sys.argv) > 6:
        name = sys.argv[6]
        words.append('"%s"' % name if quote == "yes" else name)
    if len(sys.argv) > 7:
        with open(sys.argv[7], "rb") as f:
            words.append(base64.b64encode(f.read()).decode())
    request = " ".join(words) + "\r\n\r\n"

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
