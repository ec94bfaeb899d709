#!/usr/bin/env python3
"""A course client that ends its request with whatever its author chose.

Usage: terminators.py HOST PORT TERM COMMAND [NAME [FILE]]

TERM is how the request ends: none, crlf, lf, lflf or crlfcrlf. With FILE,
its content is sent base64-encoded after NAME (an upload). The client then
waits for the reply like course code does: recv until "\\r\\n\\r\\n".

Prints one JSON line: {"ok": ..., "replies": [...], "latency_ms": [...]},
the latency counted from the moment the whole request was sent.
"""
import sys

import course_client

TERMINATORS = {"none": "", "crlf": "\r\n", "lf": "\n", "lflf": "\n\n", "crlfcrlf": "\r\n\r\n"}


def main():
    host, port, term, command = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    request = " ".join(course_client.command_words(command, sys.argv[5:])) + TERMINATORS[term]
    course_client.run(host, port, [request])


if __name__ == "__main__":
    main()
