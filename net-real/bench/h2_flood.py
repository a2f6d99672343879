"""What unrouted_flood.py and dialed_flood.py share: an HTTP/2 connection
whose gRPC streams each carry one message that claims more than is sent.

Each stream's message announces ANNOUNCE bytes and sends SEND of them (all
but the last byte, by default), as fast as the other side's flow control
allows, so the other side never has a whole message to look at. Needs
Debian's python3-h2 (not a build dependency).
"""
import struct

import h2.config
import h2.connection
import h2.events
import h2.exceptions

MIB = 1 << 20


class FloodConn:
    """One non-blocking socket and its HTTP/2 state. `sent` maps each
    flooding stream to the bytes sent on it; `closed` holds the streams the
    other side ended; `dead` is set when the connection is gone."""

    def __init__(self, sock, client_side, announce, send):
        self.sock = sock
        self.sock.setblocking(False)
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=client_side, header_encoding="utf-8"))
        self.h2.initiate_connection()
        # Not-compressed flag, then the length the other side will wait for.
        self.prefix = struct.pack(">BI", 0, min(announce, 0xFFFFFFFF))
        self.total = len(self.prefix) + send
        self.sent = {}
        self.closed = set()
        self.dead = False
        self.out = self.h2.data_to_send()

    def on_event(self, ev):
        """Events other than stream and connection ends (subclasses)."""

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
            if isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                self.closed.add(ev.stream_id)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.dead = True
            else:
                self.on_event(ev)
        self.pump()

    def on_writable(self):
        self.out = self.out[self.sock.send(self.out):]
        if len(self.out) < MIB:
            self.pump()


def serve(live, readable, writable):
    """Lets each live connection read and write what select() found ready."""
    for c in live:
        try:
            if c.sock in writable:
                c.on_writable()
            if c.sock in readable:
                c.on_readable()
        except BlockingIOError:
            pass
        except (ConnectionError, h2.exceptions.ProtocolError):
            c.dead = True
