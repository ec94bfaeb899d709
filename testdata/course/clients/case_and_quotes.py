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
import sys

import course_client


def main():
    host, port, case, quote, command = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    if case == "lower":
        command = command.lower()
    words = [command]
    if len(sys.argv) > 6:
        name = sys.argv[6]
        words.append('"%s"' % name if quote == "yes" else name)
    if len(sys.argv) > 7:
        words.append(course_client.read_base64(sys.argv[7]))
    course_client.run(host, port, [" ".join(words) + course_client.END])


if __name__ == "__main__":
    main()
