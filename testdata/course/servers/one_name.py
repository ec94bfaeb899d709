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
import json
import os
import socket
import sys
import threading

LOCK = threading.Lock()


def proses(request, folder):
    parts = request.strip().split(" ", 2)
    command = parts[0].upper()
    path = os.path.join(folder, "satu.bin")
    try:
        if command == "LIST":
            return dict(status="OK", data=sorted(os.listdir(folder)))
        if command == "GET":
            with open(path, "rb") as f:
                isi = base64.b64encode(f.read()).decode()
            return dict(status="OK", data_namafile=parts[1], data_file=isi)
        if command == "UPLOAD":
            isi = base64.b64decode(parts[2])
            with LOCK, open(path, "wb") as f:
                f.write(isi)
            return dict(status="OK", data="upload berhasil")
        if command == "DELETE":
            if os.path.exists(path):
                os.remove(path)
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
