"""What the course servers share: the four commands, the loop that serves
one connection, and main.

Each server in this directory imports this module (Python puts the
script's directory on sys.path) and keeps only its quirk, passed to main
as keyword arguments:

  parse     request text -> (command, params); split_text by default
  commands  {command: handler(folder, params) -> reply}, the command
            compared with == as parse gives it; COMMANDS by default
  framing   conn -> the requests it carries (a generator);
            requests_ended_by_crlfcrlf by default
  hang_up_on_unknown
            True: an unknown command gets its reply, then the connection
            is closed

A reply is a dict, sent as its JSON and "\\r\\n\\r\\n". A handler that
raises gets {"status": "ERROR", "data": str(e)}; a command no handler
takes gets UNKNOWN.

With COURSE_SERVER_LOG=FILE in the environment, each request that proses
parses appends one line to FILE: its command and first parameter (the
file name), as servers print what they serve; the tests read it to see
which files a client asked for.
"""
import base64
import json
import os
import socket
import sys
import threading

UNKNOWN = dict(status="ERROR", data="request tidak dikenali")


def split_text(request):
    """ "GET name" -> ("GET", ["name"]): the command in upper case, then
    the name and the base64, split at the first two spaces."""
    parts = request.strip().split(" ", 2)
    return parts[0].upper(), parts[1:]


def read_base64(folder, name):
    with open(os.path.join(folder, name), "rb") as f:
        return base64.b64encode(f.read()).decode()


def list_files(folder, params):
    return dict(status="OK", data=sorted(os.listdir(folder)))


def get_file(folder, params):
    isi = read_base64(folder, params[0])
    return dict(status="OK", data_namafile=params[0], data_file=isi)


def upload_file(folder, params, message="upload berhasil"):
    """Stores params[1], base64, as params[0]; the file is opened before
    the base64 is decoded, as course code does. "{}" in message stands
    for the name."""
    with open(os.path.join(folder, params[0]), "wb") as f:
        f.write(base64.b64decode(params[1]))
    return dict(status="OK", data=message.format(params[0]))


def delete_file(folder, params, message="delete berhasil"):
    os.remove(os.path.join(folder, params[0]))
    return dict(status="OK", data=message.format(params[0]))


COMMANDS = {"LIST": list_files, "GET": get_file, "UPLOAD": upload_file, "DELETE": delete_file}


def log_request(command, params):
    """Appends "COMMAND name" to COURSE_SERVER_LOG, if it is set: the
    name up to a line break, at most 200 characters."""
    path = os.environ.get("COURSE_SERVER_LOG")
    if path:
        name = str(params[0]).splitlines()[0][:200] if params and params[0] else ""
        with open(path, "a") as f:
            f.write("{} {}\n".format(command, name))


def proses(request, folder, parse=split_text, commands=COMMANDS):
    """The reply to one request."""
    try:
        command, params = parse(request)
        log_request(command, params)
        for name, handler in commands.items():
            if command == name:
                return handler(folder, params)
    except Exception as e:
        return dict(status="ERROR", data=str(e))
    return UNKNOWN


def encode_reply(hasil):
    return (json.dumps(hasil) + "\r\n\r\n").encode()


def requests_ended_by_crlfcrlf(conn):
    """Yields each request of the connection, ended by "\\r\\n\\r\\n",
    until the client closes. Bytes are decoded as they arrive."""
    rcv = ""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        rcv += data.decode()
        while "\r\n\r\n" in rcv:
            request, rcv = rcv.split("\r\n\r\n", 1)
            yield request


def layani(conn, folder, parse=split_text, commands=COMMANDS,
           framing=requests_ended_by_crlfcrlf, hang_up_on_unknown=False):
    """Answers each request of one connection, each reply with a sendall
    of its own, then closes it. A client that went away (OSError) ends it
    quietly."""
    try:
        for request in framing(conn):
            hasil = proses(request, folder, parse, commands)
            conn.sendall(encode_reply(hasil))
            if hang_up_on_unknown and hasil is UNKNOWN:
                break
    except OSError:
        pass
    conn.close()


def listen(port, backlog=100):
    """A socket listening on 127.0.0.1:port (0: any free port), whose port
    is printed on stdout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(backlog)
    print(s.getsockname()[1], flush=True)
    return s


def main(**hooks):
    """Usage: PROGRAM PORT DIR ...: serves DIR on 127.0.0.1:PORT (0: any
    free port), prints the port, and answers each connection in a thread
    of its own with layani(conn, DIR, **hooks)."""
    port, folder = int(sys.argv[1]), sys.argv[2]
    s = listen(port)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=layani, args=(conn, folder), kwargs=hooks, daemon=True).start()
