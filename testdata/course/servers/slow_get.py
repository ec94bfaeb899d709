#!/usr/bin/env python3
"""A course server whose GET takes its time.

Usage: slow_get.py PORT DIR SECONDS   (PORT 0: any free port, printed on stdout)

GET waits SECONDS before it replies; LIST, UPLOAD and DELETE answer at
once. Text requests ended by "\\r\\n\\r\\n", several per connection;
UPLOAD's reply has no size and no hash, so uploads are read back with GET.
"""
import sys
import time

import course_server

DELAY = float(sys.argv[3])


def get_slowly(folder, params):
    time.sleep(DELAY)
    return course_server.get_file(folder, params)


if __name__ == "__main__":
    course_server.main(commands=dict(course_server.COMMANDS, GET=get_slowly))
