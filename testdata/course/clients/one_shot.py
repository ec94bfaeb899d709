#!/usr/bin/env python3
"""A course client that uses one connection per request.

Usage: one_shot.py HOST PORT HOW COMMAND [NAME [FILE]]

Connects, sends "COMMAND NAME <base64 of FILE>", reads the reply until
"\\r\\n\\r\\n" (or until the server closes), and closes. HOW:

  close                the request ends in "\\r\\n\\r\\n"
  shutdown             no terminator: sock.shutdown(socket.SHUT_WR) after
                       the request, so EOF is the only end of the request
  terminated-shutdown  "\\r\\n\\r\\n" and then sock.shutdown(socket.SHUT_WR)

Prints one JSON line: {"ok": ..., "replies": [...], "latency_ms": [...]},
the latency counted from the moment the whole request was sent.
"""
import socket
import sys

import course_client


def main():
    host, port, how, command = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    request = " ".join(course_client.command_words(command, sys.argv[5:]))
    if how != "shutdown":
        request += course_client.END

    def send(sock, request, result):
        sock.sendall(request.encode())
        if how != "close":
            sock.shutdown(socket.SHUT_WR)

    course_client.run(host, port, [request], send)


if __name__ == "__main__":
    main()
