#!/usr/bin/env python3
"""A course server whose UPLOAD reply gives no size and no hash.

Usage: upload_no_hash.py PORT DIR   (PORT 0: any free port, printed on stdout)

Text requests ended by "\\r\\n\\r\\n", several per connection: LIST,
GET name, UPLOAD name <base64>, DELETE name. UPLOAD answers
{"status": "OK", "data": "<name> berhasil diupload"}, so a client can only
check what was stored by reading it back. Anything else, STATS included,
is "request tidak dikenali".
"""
import base64
import json
import os
import socket
import sys
import threading


def proses(request, folder):
    parts = request.strip().split(" ", 2)
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
            return dict(status="OK", data=parts[1] + " berhasil diupload")
        if command == "DELETE":
            os.remove(os.path.join(folder, parts[1]))
            return dict(status="OK", data=parts[1] + " berhasil dihapus")
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
            hasil = json.dumps(proses(request, folder)) + "\r\n\r\n"
            conn.sendall(hasil.encode())
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
