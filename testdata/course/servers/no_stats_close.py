#!/usr/bin/env python3
"""A course server without STATS that hangs up on what it does not know.

Usage: no_stats_close.py PORT DIR   (PORT 0: any free port, printed on stdout)

Text requests ended by "\\r\\n\\r\\n", several per connection (LIST, GET,
UPLOAD, DELETE; UPLOAD's reply has no size and no hash). Any other request,
STATS included, gets {"status": "ERROR", "data": "request tidak dikenali"}
and the connection is closed.
"""
import course_server

if __name__ == "__main__":
    course_server.main(hang_up_on_unknown=True)
