#!/usr/bin/env python3
"""A course server that takes JSON requests only.

Usage: json_only.py PORT DIR   (PORT 0: any free port, printed on stdout)

Each request is a JSON object ended by "\\r\\n\\r\\n", several per
connection: {"command": "upload", "params": ["name", "<base64>"]}, and
"list", "get", "delete" the same way. A text request fails json.loads and
gets its message: {"status": "ERROR", "data": "Expecting value: line 1
column 1 (char 0)"}. UPLOAD's reply has no size and no hash.
"""
import base64
import json
import os
import socket
import sys
import threading


def proses(request, folder):
    try:
        req = json.loads(request)
        command, params = req["command"], req["params"]
        if command == "list":
            return dict(status="OK", data=sorted(os.listdir(folder)))
        if command == "get":
            with open(os.path.join(folder, params[0]), "rb") as f:
                return dict(status="OK", data_namafile=params[0], data_file=base64.b64encode(f.read()).decode())
        if command == "upload":
            with open(os.path.join(folder, params[0]), "wb") as f:
                f.write(base64.b64decode(params[1]))
            return dict(status="OK", data="file %s berhasil diupload" % params[0])
        if command == "delete":
            os.remove(os.path.join(folder, params[0]))
            return dict(status="OK", data="file %s berhasil dihapus" % params[0])
        return dict(status="ERROR", data="request tidak dikenali")
    except Exception as e:
        return dict(status="ERROR", data=str(e))


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
