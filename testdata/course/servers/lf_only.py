#!/usr/bin/env python3
"""A course server that reads requests one line at a time.

Usage: lf_only.py PORT DIR [--refuse-delete]
    (PORT 0: any free port, printed on stdout)

Every line ended by "\\n" is a request (LIST, GET, UPLOAD, DELETE; STATS is
"request tidak dikenali"), stripped of white space, several per connection.
A client that ends its requests with "\\r\\n\\r\\n" therefore sends a blank
line after each one, which gets a reply of its own, a second reply:
{"status": "ERROR", "data": "request tidak dikenali"}. Each reply is
written with a sendall of its own, the second a moment after the first.
UPLOAD's reply has no size and no hash. With --refuse-delete, DELETE of a
file the server holds is refused: {"status": "ERROR", "data": "akses
ditolak"}.
"""
import base64
import json
import os
import socket
import sys
import threading
import time

REFUSE_DELETE = "--refuse-delete" in sys.argv[3:]


def proses(request, folder):
    parts = request.split(" ", 2)
    command = parts[0].upper()
    try:
        if command == "LIST":
            return dict(status="OK", data=sorted(os.listdir(folder)))
        if command == "GET":
            with open(os.path.join(folder, parts[1]), "rb") as f:
                isi = base64.b64encode(f.read()).decode()
            return dict(status="OK", data_namafile=parts[1], data_file=isi)
        if command == "UPLOAD":
            with open(os.path.join(folder, parts[1]), "wb") as f:
                f.write(base64.b64decode(parts[2]))
            return dict(status="OK", data="upload berhasil")
        if command == "DELETE":
            path = os.path.join(folder, parts[1])
            if REFUSE_DELETE and os.path.exists(path):
                return dict(status="ERROR", data="akses ditolak")
            os.remove(path)
            return dict(status="OK", data="delete berhasil")
    except Exception as e:
        return dict(status="ERROR", data=str(e))
    return dict(status="ERROR", data="request tidak dikenali")


def layani(conn, folder):
    rcv = b""
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            rcv += data
            while b"\n" in rcv:
                line, rcv = rcv.split(b"\n", 1)
                request = line.decode().strip()
                if request == "":
                    time.sleep(0.02)
                    hasil = dict(status="ERROR", data="request tidak dikenali")
                else:
                    hasil = proses(request, folder)
                conn.sendall((json.dumps(hasil) + "\r\n\r\n").encode())
    except OSError:
        pass
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
