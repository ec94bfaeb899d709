#!/usr/bin/env python3
"""A course client that names the commands the HTTP way.

Usage: aliases.py HOST PORT COMMAND NAME [FILE]

COMMAND is POST or PUT for an upload (with FILE, sent in base64), or
DOWNLOAD for a get, whose reply carries the content under "data". The
request ends in "\\r\\n\\r\\n".

Prints one JSON line: {"ok": ..., "replies": [...], "latency_ms": [...]},
the latency counted from the moment the whole request was sent.
"""
import sys

import course_client


def main():
    host, port, command, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    request = " ".join(course_client.command_words(command, [name] + sys.argv[5:6])) + course_client.END
    course_client.run(host, port, [request])


if __name__ == "__main__":
    main()
