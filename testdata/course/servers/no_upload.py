#!/usr/bin/env python3
"""A course server that takes no upload at all.

Usage: no_upload.py PORT DIR   (PORT 0: any free port, printed on stdout)

Text requests ended by "\\r\\n\\r\\n", several per connection: LIST,
GET name and DELETE name work on the files already in DIR. UPLOAD, POST
and PUT, in any layout, get {"status": "ERROR", "data": "upload tidak
diizinkan"}; JSON, STATS and anything else "request tidak dikenali".
"""
import course_server


def refuse_upload(folder, params):
    return dict(status="ERROR", data="upload tidak diizinkan")


COMMANDS = dict(course_server.COMMANDS, UPLOAD=refuse_upload, POST=refuse_upload, PUT=refuse_upload)

if __name__ == "__main__":
    course_server.main(commands=COMMANDS)
