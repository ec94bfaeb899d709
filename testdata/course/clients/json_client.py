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
import json
import sys

import course_client


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
            ops.append({"command": "upload", "params": [name, course_client.read_base64(path)]})
        elif op == "upload-named":
            name, path = args.pop(0), args.pop(0)
            ops.append({"command": "upload", "filename": name, "content": course_client.read_base64(path)})
        elif op == "upload-content-first":
            name, path = args.pop(0), args.pop(0)
            ops.append({"content": course_client.read_base64(path), "command": "upload", "filename": name})
        else:
            raise SystemExit("unknown op " + op)
    return ops


def main():
    host, port, term, conn = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ops = parse_ops(sys.argv[5:])
    end = course_client.END if term == "crlfcrlf" else ""
    course_client.run(host, port, [json.dumps(op) + end for op in ops], new_connection=conn == "new")


if __name__ == "__main__":
    main()
