#!/usr/bin/python3
"""A hostile peer that waits to be dialled and answers with one endless message.

For measuring by hand what a remote we dial can make a swarm process hold
(docs/real-network.md, "Limits and known gaps"); run by dialed_memory.sh.
Needs Debian's python3-h2 (not a build dependency).

  dialed_flood.py PORT SECONDS [--announce BYTES] [--send BYTES]

Listens on 127.0.0.1:PORT as an HTTP/2 server. Every stream opened to it
(a PeerWire.Connect from the process under test) gets response headers, so
the dialler sees the stream up, then a gRPC message that announces BYTES
(default 1 GiB) of which --send are sent (default: all but the last byte),
as fast as the dialler's flow control allows; so the dialler never gets a
whole message to look at. Serves for SECONDS (or until SIGTERM), then prints what got through
and how many streams the dialler ended.
"""
import argparse
import select
import signal
import socket
import struct
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions

MIB = 1 << 20


class Conn:
    def __init__(self, sock, announce, send):
        self.sock = sock
        self.sock.setblocking(False)
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.h2.initiate_connection()
        # Not-compressed flag, then the length the dialler will wait for.
        self.prefix = struct.pack(">BI", 0, min(announce, 0xFFFFFFFF))
        self.total = len(self.prefix) + send
        self.sent = {}
        self.closed = set()
        self.dead = False
        self.out = self.h2.data_to_send()

    def chunk(self, offset, n):
        head = self.prefix[offset:offset + n] if offset < len(self.prefix) else b""
        return head + b"x" * (n - len(head))

    def pump(self):
        for sid in self.sent:
            # Keep what waits for the socket bounded: a few MiB at a time.
            while (sid not in self.closed and self.sent[sid] < self.total
                   and len(self.out) < 4 * MIB):
                try:
                    n = min(self.h2.local_flow_control_window(sid),
                            self.h2.max_outbound_frame_size, self.total - self.sent[sid])
                except h2.exceptions.StreamClosedError:
                    self.closed.add(sid)
                    break
                if n <= 0:
                    break
                self.h2.send_data(sid, self.chunk(self.sent[sid], n))
                self.sent[sid] += n
                self.out += self.h2.data_to_send()
        self.out += self.h2.data_to_send()

    def on_readable(self):
        data = self.sock.recv(1 << 16)
        if not data:
            self.dead = True
            return
        for ev in self.h2.receive_data(data):
            if isinstance(ev, h2.events.RequestReceived):
                self.h2.send_headers(ev.stream_id, [(":status", "200"),
                                                    ("content-type", "application/grpc")])
                self.sent[ev.stream_id] = 0
            elif isinstance(ev, h2.events.DataReceived):
                # Whatever the dialler says (its handshake) is read and dropped.
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                self.closed.add(ev.stream_id)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.dead = True
        self.pump()

    def on_writable(self):
        self.out = self.out[self.sock.send(self.out):]
        if len(self.out) < MIB:
            self.pump()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("seconds", type=float)
    p.add_argument("--announce", type=int, default=1 << 30)
    p.add_argument("--send", type=int, default=None)
    a = p.parse_args()
    send = a.announce - 1 if a.send is None else a.send
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", a.port))
    listener.listen(64)
    print("listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
    conns = []
    end = [time.time() + a.seconds]
    # SIGTERM ends the run early, still with the summary.
    signal.signal(signal.SIGTERM, lambda *_: end.__setitem__(0, 0))
    while time.time() < end[0]:
        live = [c for c in conns if not c.dead]
        r, w, _ = select.select([listener] + [c.sock for c in live],
                                [c.sock for c in live if c.out], [], 0.1)
        if listener in r:
            sock, _ = listener.accept()
            conns.append(Conn(sock, a.announce, send))
            live.append(conns[-1])
        for c in live:
            try:
                if c.sock in w:
                    c.on_writable()
                if c.sock in r:
                    c.on_readable()
            except BlockingIOError:
                pass
            except (ConnectionError, h2.exceptions.ProtocolError):
                c.dead = True
    streams = sum(len(c.sent) for c in conns)
    sent = sum(sum(c.sent.values()) for c in conns)
    ended = sum(len(c.sent) if c.dead else len(c.closed) for c in conns)
    print("connections %d streams %d sent %.1f MiB ended by the dialler %d"
          % (len(conns), streams, sent / MIB, ended))


if __name__ == "__main__":
    main()
