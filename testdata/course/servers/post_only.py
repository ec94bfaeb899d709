#!/usr/bin/env python3
"""A course server that takes uploads as POST only.

Usage: post_only.py PORT DIR   (PORT 0: any free port, printed on stdout)

Text requests ended by "\\r\\n\\r\\n", several per connection: LIST,
GET name, POST name <base64>, DELETE name. UPLOAD (and PUT, STATS,
anything else) is {"status": "ERROR", "data": "request tidak dikenali"}.
POST's reply has no size and no hash.
"""
import course_server

COMMANDS = {
    "LIST": course_server.list_files,
    "GET": course_server.get_file,
    "POST": course_server.upload_file,
    "DELETE": course_server.delete_file,
}

if __name__ == "__main__":
    course_server.main(commands=COMMANDS)
