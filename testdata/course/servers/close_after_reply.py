#!/usr/bin/env python3
"""A course server that closes the connection after every reply.

Usage: close_after_reply.py PORT DIR   (PORT 0: any free port, printed on stdout)

socketserver.ThreadingTCPServer: each connection carries one text
request ended by "\\r\\n\\r\\n" (LIST, GET, UPLOAD, DELETE), gets one reply,
and is closed, whatever the client meant to send next. UPLOAD's reply has
no size and no hash; STATS is "request tidak dikenali".
"""
import socketserver
import sys

import course_server

FOLDER = sys.argv[2]


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        rcv = b""
        while b"\r\n\r\n" not in rcv:
            data = self.request.recv(65536)
            if not data:
                return
            rcv += data
        request = rcv.split(b"\r\n\r\n", 1)[0].decode()
        self.request.sendall(course_server.encode_reply(course_server.proses(request, FOLDER)))
        # the handler returns: socketserver closes the connection


def main():
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), Handler) as server:
        print(server.server_address[1], flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
