#!/usr/bin/env python3
"""The course's reference file server, as handed out.

Usage: reference.py PORT DIR   (PORT 0: any free port, printed on stdout)

It reads 32 bytes at a time and handles what it holds whenever it ends in
"\\r\\n"; the whole request is lower-cased and split with shlex; the
command is looked up on FileInterface, which has list and get only: there
is no working UPLOAD (nor DELETE, nor STATS), which all get
"request tidak dikenali". A download cell against it can only use a file
already in DIR.
"""
import base64
import json
import logging
import os
import shlex
import sys
import threading

import course_server


class FileInterface:
    def __init__(self, folder):
        self.folder = folder

    def list(self, params=[]):
        try:
            return dict(status="OK", data=sorted(os.listdir(self.folder)))
        except Exception as e:
            return dict(status="ERROR", data=str(e))

    def get(self, params=[]):
        try:
            filename = params[0]
            if filename == "":
                return None
            with open(os.path.join(self.folder, filename), "rb") as fp:
                isifile = base64.b64encode(fp.read()).decode()
            return dict(status="OK", data_namafile=filename, data_file=isifile)
        except Exception as e:
            return dict(status="ERROR", data=str(e))


class FileProtocol:
    def __init__(self, folder):
        self.file = FileInterface(folder)

    def proses_string(self, string_datamasuk=""):
        c = shlex.split(string_datamasuk.lower())
        try:
            c_request = c[0].strip()
            params = [x for x in c[1:]]
            cl = getattr(self.file, c_request)(params)
            return json.dumps(cl)
        except Exception:
            return json.dumps(dict(status="ERROR", data="request tidak dikenali"))


class ProcessTheClient(threading.Thread):
    def __init__(self, connection, fp):
        self.connection = connection
        self.fp = fp
        threading.Thread.__init__(self, daemon=True)

    def run(self):
        rcv = ""
        while True:
            data = self.connection.recv(32)
            if data:
                d = data.decode()
                rcv = rcv + d
                if rcv[-2:] == "\r\n":
                    hasil = self.fp.proses_string(rcv)
                    hasil = hasil + "\r\n\r\n"
                    self.connection.sendall(hasil.encode())
                    rcv = ""
            else:
                break
        self.connection.close()


def main():
    logging.disable(logging.WARNING)
    port, folder = int(sys.argv[1]), sys.argv[2]
    fp = FileProtocol(folder)
    my_socket = course_server.listen(port, backlog=1)
    while True:
        connection, _ = my_socket.accept()
        ProcessTheClient(connection, fp).start()


if __name__ == "__main__":
    main()
