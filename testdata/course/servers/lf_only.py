#!/usr/bin/env python3
"""A course server that reads requests one line at a time.

Usage: lf_only.py PORT DIR [--refuse-delete]
    (PORT 0: any free port, printed on stdout)

Every line ended by "\\n" is a request (LIST, GET, UPLOAD, DELETE; STATS is
"request tidak dikenali"), stripped of white space, several per connection.
A client that ends its requests with "\\r\\n\\r\\n" therefore sends a blank
line after each one, which gets a reply of its own, a second reply:
{"status": "ERROR", "data": "request tidak dikenali"}. Each reply is
written with a sendall of its own, the second a moment after the first.
UPLOAD's reply has no size and no hash. With --refuse-delete, DELETE of a
file the server holds is refused: {"status": "ERROR", "data": "akses
ditolak"}.
"""
import os
import sys
import time

import course_server

REFUSE_DELETE = "--refuse-delete" in sys.argv[3:]


def lines(conn):
    """Yields each line of the connection, ended by "\\n" and stripped of
    white space, a blank one too, until the client closes; a last line
    without "\\n" is dropped."""
    for line in conn.makefile("rb"):
        if line.endswith(b"\n"):
            yield line.decode().strip()


def split_line(request):
    """A blank line is a request too: "request tidak dikenali", a moment
    late."""
    if request == "":
        time.sleep(0.02)
    return course_server.split_text(request)


def delete_unless_refused(folder, params):
    if REFUSE_DELETE and os.path.exists(os.path.join(folder, params[0])):
        return dict(status="ERROR", data="akses ditolak")
    return course_server.delete_file(folder, params)


if __name__ == "__main__":
    course_server.main(parse=split_line, framing=lines,
                       commands=dict(course_server.COMMANDS, DELETE=delete_unless_refused))
