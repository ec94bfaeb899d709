#!/usr/bin/env python3
"""A course server that keeps one file, whatever the names it is given.

Usage: one_name.py PORT DIR   (PORT 0: any free port, printed on stdout)

UPLOAD stores every upload as DIR/satu.bin, whatever its name; GET of any
name serves that file; DELETE of any name removes it (and is OK when it is
gone already); LIST lists DIR. Text requests ended by "\\r\\n\\r\\n",
several per connection; UPLOAD's reply has no size and no hash, so only a
read-back can tell, and only if the workers sent different bytes.
"""
import base64
import os
import threading

import course_server

LOCK = threading.Lock()


def get_the_file(folder, params):
    isi = course_server.read_base64(folder, "satu.bin")
    return dict(status="OK", data_namafile=params[0], data_file=isi)


def upload_the_file(folder, params):
    isi = base64.b64decode(params[1])
    with LOCK, open(os.path.join(folder, "satu.bin"), "wb") as f:
        f.write(isi)
    return dict(status="OK", data="upload berhasil")


def delete_the_file(folder, params):
    path = os.path.join(folder, "satu.bin")
    if os.path.exists(path):
        os.remove(path)
    return dict(status="OK", data="delete berhasil")


if __name__ == "__main__":
    course_server.main(commands=dict(course_server.COMMANDS,
                                     GET=get_the_file, UPLOAD=upload_the_file, DELETE=delete_the_file))
