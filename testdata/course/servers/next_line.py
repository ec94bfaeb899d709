#!/usr/bin/env python3
"""A course server that reads an UPLOAD's payload from the line after
the name.

Usage: next_line.py PORT DIR   (PORT 0: any free port, printed on stdout)

UPLOAD name\\r\\n<base64>\\r\\n\\r\\n: the request's first line is the
command and the name, the payload is what follows, up to "\\r\\n\\r\\n".
An UPLOAD whose first line holds the payload too (UPLOAD name <base64>
and "\\r\\n\\r\\n") is taken for the head alone: the server waits for the
payload after it, which never comes, and never replies. LIST, GET name
and DELETE name are text requests ended by "\\r\\n\\r\\n", several per
connection; STATS and anything else is "request tidak dikenali".
UPLOAD's reply has no size and no hash.
"""
import course_server


def recv_until_end(conn, rcv):
    """rcv and what arrives after it, until it holds "\\r\\n\\r\\n";
    None if the client closes first."""
    while "\r\n\r\n" not in rcv:
        data = conn.recv(65536)
        if not data:
            return None
        rcv += data.decode()
    return rcv


def requests_payload_next_line(conn):
    """Yields each request ended by "\\r\\n\\r\\n"; an UPLOAD without a
    line break in it waits for its payload, up to the next "\\r\\n\\r\\n"."""
    rcv = ""
    while True:
        rcv = recv_until_end(conn, rcv)
        if rcv is None:
            return
        request, rcv = rcv.split("\r\n\r\n", 1)
        if request.upper().startswith("UPLOAD") and "\r\n" not in request:
            rcv = recv_until_end(conn, rcv)
            if rcv is None:
                return
            payload, rcv = rcv.split("\r\n\r\n", 1)
            request = request + "\r\n" + payload
        yield request


def split_head_payload(request):
    """ "UPLOAD name\\r\\n<base64>" -> ("UPLOAD", ["name", "<base64>"])"""
    head, _, payload = request.partition("\r\n")
    command, params = course_server.split_text(head)
    if command == "UPLOAD":
        params = [params[0].strip(), payload]
    return command, params


if __name__ == "__main__":
    course_server.main(parse=split_head_payload, framing=requests_payload_next_line)
