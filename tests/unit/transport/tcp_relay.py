"""A ProxyCommand for tests: relay stdin/stdout to HOST PORT (what `nc HOST PORT` does)."""

import os
import select
import socket
import sys

sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
inputs = {sys.stdin.fileno(): sock, sock.fileno(): None}
while True:
    ready, _, _ = select.select([sys.stdin.fileno(), sock.fileno()], [], [])
    for fd in ready:
        if fd == sock.fileno():
            data = sock.recv(65536)
            if not data:
                sys.exit(0)
            os.write(sys.stdout.fileno(), data)
        else:
            data = os.read(fd, 65536)
            if not data:
                sock.shutdown(socket.SHUT_WR)
                sys.exit(0)
            sock.sendall(data)
