#!/usr/bin/env python3
"""A course server that takes uploads as PUT only, and says "invalid" to
anything else.

Usage: put_only.py PORT DIR   (PORT 0: any free port, printed on stdout)

Text requests ended by "\\r\\n\\r\\n", several per connection: LIST,
GET name, PUT name <base64>, DELETE name. UPLOAD, POST, STATS and any
other request get {"status": "ERROR", "data": "invalid"}. PUT's reply has
no size and no hash.
"""
import course_server

COMMANDS = {
    "LIST": course_server.list_files,
    "GET": course_server.get_file,
    "PUT": lambda folder, params: course_server.upload_file(folder, params, "{} tersimpan"),
    "DELETE": course_server.delete_file,
    "INVALID": lambda folder, params: dict(status="ERROR", data="invalid"),
}


def parse(request):
    """Any command but the four is INVALID."""
    command, params = course_server.split_text(request)
    if command not in COMMANDS:
        command = "INVALID"
    return command, params


if __name__ == "__main__":
    course_server.main(parse=parse, commands=COMMANDS)
