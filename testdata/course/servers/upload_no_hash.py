#!/usr/bin/env python3
"""A course server whose UPLOAD reply gives no size and no hash.

Usage: upload_no_hash.py PORT DIR   (PORT 0: any free port, printed on stdout)

Text requests ended by "\\r\\n\\r\\n", several per connection: LIST,
GET name, UPLOAD name <base64>, DELETE name. UPLOAD answers
{"status": "OK", "data": "<name> berhasil diupload"}, so a client can only
check what was stored by reading it back. Anything else, STATS included,
is "request tidak dikenali".
"""
import course_server

COMMANDS = dict(
    course_server.COMMANDS,
    UPLOAD=lambda folder, params: course_server.upload_file(folder, params, "{} berhasil diupload"),
    DELETE=lambda folder, params: course_server.delete_file(folder, params, "{} berhasil dihapus"),
)

if __name__ == "__main__":
    course_server.main(commands=COMMANDS)
