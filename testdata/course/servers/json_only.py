#!/usr/bin/env python3
"""A course server that takes JSON requests only.

Usage: json_only.py PORT DIR   (PORT 0: any free port, printed on stdout)

Each request is a JSON object ended by "\\r\\n\\r\\n", several per
connection: {"command": "upload", "params": ["name", "<base64>"]}, and
"list", "get", "delete" the same way. A text request fails json.loads and
gets its message: {"status": "ERROR", "data": "Expecting value: line 1
column 1 (char 0)"}. UPLOAD's reply has no size and no hash.
"""
import json

import course_server


def parse_json(request):
    """{"command": "get", "params": ["x"]} -> ("get", ["x"])"""
    req = json.loads(request)
    return req["command"], req["params"]


COMMANDS = {
    "list": course_server.list_files,
    "get": course_server.get_file,
    "upload": lambda folder, params: course_server.upload_file(folder, params, "file {} berhasil diupload"),
    "delete": lambda folder, params: course_server.delete_file(folder, params, "file {} berhasil dihapus"),
}

if __name__ == "__main__":
    course_server.main(parse=parse_json, commands=COMMANDS)
