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
import time

from h2_flood import MIB, FloodConn, serve


class Conn(FloodConn):
    """Dials the peer and opens `streams` PeerWire.Connect streams."""

    def __init__(self, port, streams, announce, send):
        super().__init__(socket.create_connection(("127.0.0.1", port)), True, announce, send)
        for i in range(streams):
            sid = 1 + 2 * i
            self.h2.send_headers(sid, [(":method", "POST"), (":scheme", "http"),
                                       (":path", "/swarm.wire.PeerWire/Connect"),
                                       (":authority", "127.0.0.1:%d" % port),
                                       ("content-type", "application/grpc"),
                                       ("te", "trailers")])
            self.sent[sid] = 0
        self.pump()


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
        serve(live, r, w)
    sent = sum(sum(c.sent.values()) for c in conns)
    streams = a.connections * a.streams
    closed = sum(a.streams if c.dead else len(c.closed) for c in conns)
    print("connections %d streams %d sent %.1f MiB closed by the peer %d"
          % (a.connections, streams, sent / MIB, closed))


if __name__ == "__main__":
    main()
