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
import time

import h2.events

from h2_flood import MIB, FloodConn, serve


class Conn(FloodConn):
    """An accepted dialler: every stream it opens gets response headers (so
    it sees the stream up), then the endless message."""

    def __init__(self, sock, announce, send):
        super().__init__(sock, False, announce, send)

    def on_event(self, ev):
        if isinstance(ev, h2.events.RequestReceived):
            self.h2.send_headers(ev.stream_id, [(":status", "200"),
                                                ("content-type", "application/grpc")])
            self.sent[ev.stream_id] = 0
        elif isinstance(ev, h2.events.DataReceived):
            # Whatever the dialler says (its handshake) is read and dropped.
            self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)


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
        serve(live, r, w)
    streams = sum(len(c.sent) for c in conns)
    sent = sum(sum(c.sent.values()) for c in conns)
    ended = sum(len(c.sent) if c.dead else len(c.closed) for c in conns)
    print("connections %d streams %d sent %.1f MiB ended by the dialler %d"
          % (len(conns), streams, sent / MIB, ended))


if __name__ == "__main__":
    main()
