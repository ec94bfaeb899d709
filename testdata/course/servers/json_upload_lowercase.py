#!/usr/bin/env python3
"""A course server whose uploads work as JSON only, beside text LIST and
GET, and which lower-cases every text request.

Usage: json_upload_lowercase.py PORT DIR   (PORT 0: any free port, printed on stdout)

Requests end in "\\r\\n\\r\\n", several per connection. A JSON request
has named fields: {"command": "upload", "filename": "x", "content":
"<base64>"}, and "list", "get", "delete" with "filename". A text request
(list, get name, upload name <base64>, delete name) is lower-cased
whole first, as course code does with .lower(): so a text upload stores
the lower-cased base64, other bytes than were sent, and answers OK. STATS
is "request tidak dikenali". UPLOAD's reply has no size and no hash.
"""
import json

import course_server


def parse(request):
    if request.lstrip().startswith("{"):
        req = json.loads(request)
        params = []
        if "filename" in req:
            params.append(req["filename"])
        if req["command"] == "upload":
            params.append(req["content"])
        return req["command"], params
    parts = request.lower().strip().split(" ", 2)
    return parts[0], parts[1:]


COMMANDS = {name.lower(): handler for name, handler in course_server.COMMANDS.items()}

if __name__ == "__main__":
    course_server.main(parse=parse, commands=COMMANDS)
