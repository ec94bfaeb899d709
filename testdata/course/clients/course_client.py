"""What the course clients share: reading a reply as course code does,
sending requests and printing what came back.

Each client in this directory imports this module (Python puts the
script's directory on sys.path), builds its requests its own way and
hands them to run, with a send hook where it sends them its own way.

run prints one JSON line: {"ok": ..., "replies": [...], "latency_ms":
[...]}, each latency counted from the moment its whole request was sent;
on an error also "error" and "received", the first 300 bytes of the last
reply read.
"""
import base64
import json
import socket
import time

END = "\r\n\r\n"


def read_base64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def command_words(command, rest):
    """COMMAND [NAME [FILE]] -> the words of a text request: the command,
    the name, FILE's content in base64."""
    words = [command] + rest[:1]
    if len(rest) > 1:
        words.append(read_base64(rest[1]))
    return words


def recv_reply(sock):
    """Reads until the data ends in "\\r\\n\\r\\n" or the server closes."""
    data_received = b""
    while True:
        data = sock.recv(65536)
        if not data:
            break
        data_received += data
        if b"\r\n\r\n" in data_received[-(len(data) + 3):]:
            break
    return data_received


def send_text(sock, request, result):
    sock.sendall(request.encode())


def run(host, port, requests, send=send_text, new_connection=False):
    """Sends each request with send(sock, request, result) and reads its
    reply, all on one connection, or on one each with new_connection;
    then prints the result. send may add keys of its own to result."""
    result = {"ok": False, "replies": [], "latency_ms": []}
    received = b""
    sock = None
    try:
        for request in requests:
            if sock is None:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.settimeout(5)
                sock.connect((host, port))
            send(sock, request, result)
            start = time.monotonic()
            received = recv_reply(sock)
            result["replies"].append(json.loads(received))
            result["latency_ms"].append(round((time.monotonic() - start) * 1000))
            if new_connection:
                sock.close()
                sock = None
        result["ok"] = True
    except Exception as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
        result["received"] = received[:300].decode(errors="replace")
    finally:
        if sock is not None:
            sock.close()
    print(json.dumps(result))
