#!/usr/bin/env python3
"""A course server that lower-cases the request.

Usage: lowercase.py PORT DIR [--payload-too]   (PORT 0: any free port, printed on stdout)

Text requests ended by "\\r\\n\\r\\n", several per connection (LIST, GET,
UPLOAD, DELETE; UPLOAD's reply has no size and no hash). The request is
lower-cased before it is split, as course code does with .lower(), so
GET stress-1MB.bin looks for stress-1mb.bin. An upload's base64 is kept as
sent, or no upload could work; with --payload-too it is lower-cased too,
and every upload stores wrong bytes that only a read-back can catch.
"""
import base64
import json
import os
import socket
import sys
import threading

PAYLOAD_TOO = "--payload-too" in sys.argv[3:]


def proses(request, folder):
    if PAYLOAD_TOO:
        request = request.lower()
    parts = request.strip().split(" ", 2)
    parts[:2] = [p.lower() for p in parts[:2]]
    command = parts[0]
    try:
        if command == "list":
            return dict(status="OK", data=sorted(os.listdir(folder)))
        if command == "get":
            with open(os.path.join(folder, parts[1]), "rb") as f:
                return dict(status="OK", data_namafile=parts[1], data_file=base64.b64encode(f.read()).decode())
        if command == "upload":
            with open(os.path.join(folder, parts[1]), "wb") as f:
                f.write(base64.b64decode(parts[2]))
            return dict(status="OK", data="upload berhasil")
        if command == "delete":
            os.remove(os.path.join(folder, parts[1]))
            return dict(status="OK", data="delete berhasil")
    except Exception as e:
        return dict(status="ERROR", data=str(e))
    return dict(status="ERROR", data="request tidak dikenali")


def layani(conn, folder):
    rcv = ""
    while True:
        data = conn.recv(65536)
        if not data:
            break
        rcv += data.decode()
        while "\r\n\r\n" in rcv:
            request, rcv = rcv.split("\r\n\r\n", 1)
            conn.sendall((json.dumps(proses(request, folder)) + "\r\n\r\n").encode())
    conn.close()


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(100)
    print(s.getsockname()[1], flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=layani, args=(conn, folder), daemon=True).start()


if __name__ == "__main__":
    main()
