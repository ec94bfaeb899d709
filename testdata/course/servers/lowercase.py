#!/usr/bin/env python3
"""A course server that lower-cases the request.

Usage: lowercase.py PORT DIR [--payload-too]   (PORT 0: any free port, printed on stdout)

Text requests ended by "\\r\\n\\r\\n", several per connection (LIST, GET,
UPLOAD, DELETE; UPLOAD's reply has no size and no hash). The request is
lower-cased before it is split, as course code does with .lower(), so
GET stress-1MB.bin looks for stress-1mb.bin. An upload's base64 is kept as
sent, or no upload could work; with --payload-too it is lower-cased too,
and every upload stores wrong bytes that only a read-back can catch.
"""
import sys

import course_server

PAYLOAD_TOO = "--payload-too" in sys.argv[3:]


def split_lower(request):
    """ "GET Stress-1MB.bin" -> ("get", ["stress-1mb.bin"])"""
    if PAYLOAD_TOO:
        request = request.lower()
    parts = request.strip().split(" ", 2)
    parts[:2] = [p.lower() for p in parts[:2]]
    return parts[0], parts[1:]


if __name__ == "__main__":
    course_server.main(parse=split_lower,
                       commands={name.lower(): handler for name, handler in course_server.COMMANDS.items()})
