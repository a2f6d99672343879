#!/usr/bin/python3
"""Fills a swarm peer port with streams that never finish their first message.

For measuring by hand what a PeerServer holds for streams before their
handshake (docs/real-network.md, "Limits and known gaps"); run by
unrouted_memory.sh. Needs Debian's python3-h2 (not a build dependency).

  unrouted_flood.py PORT CONNECTIONS SECONDS [--streams S]
                    [--announce BYTES] [--send BYTES]

Opens CONNECTIONS HTTP/2 connections to 127.0.0.1:PORT with S
PeerWire.Connect streams each. Every stream starts a gRPC message that
announces BYTES (default 1 MiB + 32 KiB, under the 1 MiB + 64 KiB cap) and
sends --send bytes of it (default: all but the last byte), as fast as the
peer's flow control allows; so the peer never gets a whole message to look
at. Holds everything open for SECONDS, then prints what got through and
how many streams the peer closed.
"""
import argparse
import select
import socket
import struct
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions

MIB = 1 << 20


class Conn:
    def __init__(self, port, streams, announce, send):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.h2.initiate_connection()
        # Not-compressed flag, then the length gRPC will wait for.
        self.prefix = struct.pack(">BI", 0, announce)
        self.total = len(self.prefix) + send
        self.sent = {}
        self.closed = set()
        self.dead = False
        for i in range(streams):
            sid = 1 + 2 * i
            self.h2.send_headers(sid, [(":method", "POST"), (":scheme", "http"),
                                       (":path", "/swarm.wire.PeerWire/Connect"),
                                       (":authority", "127.0.0.1:%d" % port),
                                       ("content-type", "application/grpc"),
                                       ("te", "trailers")])
            self.sent[sid] = 0
        self.out = b""
        self.pump()

    def chunk(self, offset, n):
        head = self.prefix[offset:offset + n] if offset < len(self.prefix) else b""
        return head + b"x" * (n - len(head))

    def pump(self):
        for sid in self.sent:
            while sid not in self.closed and self.sent[sid] < self.total:
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

    def on_readable(self):
        data = self.sock.recv(1 << 16)
        if not data:
            self.dead = True
            return
        for ev in self.h2.receive_data(data):
            if isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                self.closed.add(ev.stream_id)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.dead = True
        self.pump()

    def on_writable(self):
        self.out = self.out[self.sock.send(self.out):]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("connections", type=int)
    p.add_argument("seconds", type=float)
    p.add_argument("--streams", type=int, default=1)
    p.add_argument("--announce", type=int, default=MIB + 32 * 1024)
    p.add_argument("--send", type=int, default=None)
    a = p.parse_args()
    send = a.announce - 1 if a.send is None else a.send
    conns = []
    for _ in range(a.connections):
        conns.append(Conn(a.port, a.streams, a.announce, send))
    end = time.time() + a.seconds
    while time.time() < end:
        live = [c for c in conns if not c.dead]
        if not live:
            break
        r, w, _ = select.select([c.sock for c in live],
                                [c.sock for c in live if c.out], [], 0.1)
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
    sent = sum(sum(c.sent.values()) for c in conns)
    streams = a.connections * a.streams
    closed = sum(a.streams if c.dead else len(c.closed) for c in conns)
    print("connections %d streams %d sent %.1f MiB closed by the peer %d"
          % (a.connections, streams, sent / MIB, closed))


if __name__ == "__main__":
    main()
