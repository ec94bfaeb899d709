#!/usr/bin/env python3
"""A course server that closes the connection after every reply.

Usage: close_after_reply.py PORT DIR   (PORT 0: any free port, printed on stdout)

socketserver.ThreadingTCPServer: each connection carries one text
request ended by "\\r\\n\\r\\n" (LIST, GET, UPLOAD, DELETE), gets one reply,
and is closed, whatever the client meant to send next. UPLOAD's reply has
no size and no hash; STATS is "request tidak dikenali".
"""
import base64
import json
import os
import socketserver
import sys

FOLDER = sys.argv[2]


def proses(request):
    parts = request.strip().split(" ", 2)
    command = parts[0].upper()
    try:
        if command == "LIST":
            return dict(status="OK", data=sorted(os.listdir(FOLDER)))
        if command == "GET":
            with open(os.path.join(FOLDER, parts[1]), "rb") as f:
                return dict(status="OK", data_namafile=parts[1], data_file=base64.b64encode(f.read()).decode())
        if command == "UPLOAD":
            with open(os.path.join(FOLDER, parts[1]), "wb") as f:
                f.write(base64.b64decode(parts[2]))
            return dict(status="OK", data="upload berhasil")
        if command == "DELETE":
            os.remove(os.path.join(FOLDER, parts[1]))
            return dict(status="OK", data="delete berhasil")
    except Exception as e:
        return dict(status="ERROR", data=str(e))
    return dict(status="ERROR", data="request tidak dikenali")


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        rcv = b""
        while b"\r\n\r\n" not in rcv:
            data = self.request.recv(65536)
            if not data:
                return
            rcv += data
        request = rcv.split(b"\r\n\r\n", 1)[0].decode()
        self.request.sendall((json.dumps(proses(request)) + "\r\n\r\n").encode())
        # the handler returns: socketserver closes the connection


def main():
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), Handler) as server:
        print(server.server_address[1], flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
