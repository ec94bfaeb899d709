#!/usr/bin/env python3
"""A course server whose GET reply carries the content under another key.

Usage: content_key.py PORT DIR KEY [MESSAGE]
    (PORT 0: any free port, printed on stdout)

KEY is "data" or "file_data". With file_data the reply also has a message
under "data" before the content: {"status": "OK", "data": "file
ditemukan", "data_namafile": "x", "file_data": "<base64>"}. MESSAGE
replaces "file ditemukan": "berhasil", say, which is valid base64 too.
Text requests ended by "\\r\\n\\r\\n", several per connection (LIST,
GET, UPLOAD, DELETE; UPLOAD's reply has no size and no hash).
"""
import sys

import course_server

KEY = sys.argv[3]
MESSAGE = sys.argv[4] if len(sys.argv) > 4 else "file ditemukan"


def get_file(folder, params):
    isi = course_server.read_base64(folder, params[0])
    if KEY == "data":
        return dict(status="OK", data_namafile=params[0], data=isi)
    return {"status": "OK", "data": MESSAGE, "data_namafile": params[0], KEY: isi}


if __name__ == "__main__":
    course_server.main(commands=dict(course_server.COMMANDS, GET=get_file))
