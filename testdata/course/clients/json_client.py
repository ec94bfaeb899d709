#!/usr/bin/env python3
"""A course client that speaks JSON requests instead of text commands.

Usage: json_client.py HOST PORT TERM CONN OP...

TERM: "crlfcrlf" puts "\\r\\n\\r\\n" after each JSON object, "none" sends the
bare object. CONN: "keep" sends every OP on one connection, one after the
other, waiting for each reply; "new" opens a connection per OP. OPs:

  list                         {"command": "list"}
  get NAME                     {"command": "get", "params": [NAME]}
  upload-params NAME FILE      {"command": "upload", "params": [NAME, <base64>]}
  upload-named NAME FILE       {"command": "upload", "filename": NAME, "content": <base64>}
  upload-content-first NAME FILE
                               {"content": <base64>, "command": "upload", "filename": NAME}

Prints one JSON line: {"ok": ..., "replies": [...], "latency_ms": [...]},
each latency counted from the moment its whole request was sent.
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


def read_base64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def parse_ops(args):
    ops = []
    while args:
        op = args.pop(0)
        if op == "list":
            ops.append({"command": "list"})
        elif op == "get":
            ops.append({"command": "get", "params": [args.pop(0)]})
        elif op == "upload-params":
            name, path = args.pop(0), args.pop(0)
            ops.append({"command": "upload", "params": [name, read_base64(path)]})
        elif op == "upload-named":
            name, path = args.pop(0), args.pop(0)
            ops.append({"command": "upload", "filename": name, "content": read_base64(path)})
        elif op == "upload-content-first":
            name, path = args.pop(0), args.pop(0)
            ops.append({"content": read_base64(path), "command": "upload", "filename": name})
        else:
            raise SystemExit("unknown op " + op)
    return ops


def main():
    host, port, term, conn = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ops = parse_ops(sys.argv[5:])
    end = "\r\n\r\n" if term == "crlfcrlf" else ""

    result = {"ok": False, "replies": [], "latency_ms": []}
    received = b""
    sock = None
    try:
        for op in ops:
            if sock is None:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.settimeout(5)
                sock.connect((host, port))
            sock.sendall((json.dumps(op) + end).encode())
            start = time.monotonic()
            received = recv_reply(sock)
            result["replies"].append(json.loads(received))
            result["latency_ms"].append(round((time.monotonic() - start) * 1000))
            if conn == "new":
                sock.close()
                sock = None
        result["ok"] = True
    except Exception as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
        result["received"] = received[:300].decode(errors="replace")
    finally:
        if sock is not None:
            sock.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
