#!/usr/bin/env python3
"""A course server that crashes: it answers N GET requests, and on the
next one the whole process exits at once with status 3, before replying,
as a server does that runs out of memory or hits a bug mid-run.

Usage: dies_after.py PORT DIR N   (PORT 0: any free port, printed on stdout)

Otherwise as course_server.py: text requests ended by "\\r\\n\\r\\n", a
thread per connection, no STATS. run_matrix.sh's tests run it as a
SERVER_CMD that dies during the matrix.
"""
import os
import sys
import threading

import course_server

LIMIT = int(sys.argv[3])
served = 0
lock = threading.Lock()


def get_then_die(folder, params):
    global served
    with lock:
        served += 1
        if served > LIMIT:
            print("GET number %d: crashing" % served, flush=True)
            os._exit(3)
    return course_server.get_file(folder, params)


if __name__ == "__main__":
    course_server.main(commands=dict(course_server.COMMANDS, GET=get_then_die))
