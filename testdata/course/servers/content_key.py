#!/usr/bin/env python3
"""A course server whose GET reply carries the content under another key.

Usage: content_key.py PORT DIR KEY [MESSAGE]
    (PORT 0: any free port, printed on stdout)

KEY is "data" or "file_data". With file_data the reply also has a message
under "data" before the content: {"status": "OK", "data": "file
ditemukan", "data_namafile": "x", "file_data": "<base64>"}. MESSAGE
replaces "file ditemukan": "berhasil", say, which is valid base64 too.
Text requests ended by "\\r\\n\\r\\n", several per connection (LIST,
GET, UPLOAD, DELETE; UPLOAD's reply has no size and no hash).
"""
import base64
import json
import os
import socket
import sys
import threading

KEY = sys.argv[3]
MESSAGE = sys.argv[4] if len(sys.argv) > 4 else "file ditemukan"


def proses(request, folder):
    parts = request.strip().split(" ", 2)
    command = parts[0].upper()
    try:
        if command == "LIST":
            return dict(status="OK", data=sorted(os.listdir(folder)))
        if command == "GET":
            with open(os.path.join(folder, parts[1]), "rb") as f:
                isi = base64.b64encode(f.read()).decode()
            if KEY == "data":
                return dict(status="OK", data_namafile=parts[1], data=isi)
            return {"status": "OK", "data": MESSAGE, "data_namafile": parts[1], KEY: isi}
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
