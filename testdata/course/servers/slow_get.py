#!/usr/bin/env python3
"""A course server whose GET takes its time.

Usage: slow_get.py PORT DIR SECONDS   (PORT 0: any free port, printed on stdout)

GET waits SECONDS before it replies; LIST, UPLOAD and DELETE answer at
once. Text requests ended by "\\r\\n\\r\\n", several per connection;
UPLOAD's reply has no size and no hash, so uploads are read back with GET.
"""
import base64
import json
import os
import socket
import sys
import threading
import time

DELAY = float(sys.argv[3])


def proses(request, folder):
    parts = request.strip().split(" ", 2)
    command = parts[0].upper()
    try:
        if command == "LIST":
            return dict(status="OK", data=sorted(os.listdir(folder)))
        if command == "GET":
            time.sleep(DELAY)
            with open(os.path.join(folder, parts[1]), "rb") as f:
                isi = base64.b64encode(f.read()).decode()
            return dict(status="OK", data_namafile=parts[1], data_file=isi)
        if command == "UPLOAD":
            with open(os.path.join(folder, parts[1]), "wb") as f:
                f.write(base64.b64decode(parts[2]))
            return dict(status="OK", data="upload berhasil")
        if command == "DELETE":
            os.remove(os.path.join(folder, parts[1]))
            return dict(status="OK", data="delete berhasil")
    except Exception as e:
        return dict(status="ERROR", data=str(e))
    return dict(status="ERROR", data="request tidak dikenali")


def layani(conn, folder):
    rcv = ""
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            rcv += data.decode()
            while "\r\n\r\n" in rcv:
                request, rcv = rcv.split("\r\n\r\n", 1)
                conn.sendall((json.dumps(proses(request, folder)) + "\r\n\r\n").encode())
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
