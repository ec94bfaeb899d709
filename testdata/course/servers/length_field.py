#!/usr/bin/env python3
"""A course server whose UPLOAD wants a decimal length before the payload.

Usage: length_field.py PORT DIR   (PORT 0: any free port, printed on stdout)

UPLOAD name LENGTH <base64>: LENGTH is the base64 text's length, and the
server reads exactly that many characters as the payload (a line break
after it is skipped). LIST, GET name and DELETE name are text requests
ended by "\\r\\n\\r\\n", several per connection; STATS and anything else
is "request tidak dikenali". UPLOAD's reply has no size and no hash.

An UPLOAD without the length (UPLOAD name <base64>) makes int() raise in
the thread that reads the connection: the thread dies with its
traceback, and since the server keeps every client's socket (as the
course's Server keeps self.the_clients), the connection stays open and
no reply ever comes.
"""
import sys
import threading

import course_server

THE_CLIENTS = []


def requests_with_length(conn):
    """Yields each request: text ended by "\\r\\n\\r\\n", or an UPLOAD
    whose payload is as long as its LENGTH says."""
    rcv = ""
    while True:
        while "\r\n\r\n" not in rcv and not (rcv.upper().startswith("UPLOAD ") and rcv.count(" ") >= 3):
            data = conn.recv(65536)
            if not data:
                return
            rcv += data.decode()
        if rcv.upper().startswith("UPLOAD "):
            command, name, length, rest = rcv.split(" ", 3)
            length = int(length)
            while len(rest) < length:
                data = conn.recv(65536)
                if not data:
                    return
                rest += data.decode()
            payload, rcv = rest[:length], rest[length:].lstrip("\r\n")
            yield "{} {} {}".format(command, name, payload)
        else:
            request, rcv = rcv.split("\r\n\r\n", 1)
            yield request


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    s = course_server.listen(port)
    while True:
        conn, _ = s.accept()
        THE_CLIENTS.append(conn)
        threading.Thread(target=course_server.layani, args=(conn, folder),
                         kwargs=dict(framing=requests_with_length), daemon=True).start()


if __name__ == "__main__":
    main()
