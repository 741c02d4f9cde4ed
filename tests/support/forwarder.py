"""A TCP forwarder a test can cut, to take a server away from the app without stopping it,
and a reader of the PostgreSQL messages the app sends through it."""

import selectors
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable


class Forwarder:
    """Listens on 127.0.0.1:port and relays every connection to target.

    ``cut()`` closes the listener and every relayed connection (the app sees its
    connections drop and new ones refused); ``blackhole()`` keeps accepting but
    relays nothing (new connections hang until the app's own timeout);
    ``restore()`` relays again on the same port. ``watch(connection_id, data)``, if
    given, sees every byte a client sends, as it is relayed.
    """

    def __init__(self, target: tuple[str, int],
                 watch: Callable[[int, bytes], None] | None = None) -> None:
        self.target = target
        self.watch = watch
        self.listener = self._listen(0)
        self.port = self.listener.getsockname()[1]
        self.relaying = True
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.held: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.settimeout(0.1)
        return listener

    def _run(self) -> None:
        while not self.stopped.is_set():
            with self.lock:
                listener = self.listener
            if listener is None:
                self.stopped.wait(0.05)
                continue
            try:
                client, _ = listener.accept()
            except OSError:  # timeout, or closed by cut()
                continue
            if not self.relaying:
                with self.lock:
                    self.held.append(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        for sock in (a, b):
            sock.setblocking(True)
            selector.register(sock, selectors.EVENT_READ)
        peer = {a: b, b: a}
        try:
            while not self.stopped.is_set():
                for key, _ in selector.select(timeout=0.2):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    if self.watch is not None and key.fileobj is a:
                        self.watch(id(a), data)
                    peer[key.fileobj].sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            a.close()
            b.close()

    def _drop_connections(self) -> None:
        with self.lock:
            for pair in self.pairs:
                for sock in pair:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()
            self.pairs.clear()
            for sock in self.held:
                sock.close()
            self.held.clear()

    def cut(self) -> None:
        with self.lock:
            self.listener.close()
            self.listener = None
        self._drop_connections()

    def blackhole(self) -> None:
        self._drop_connections()
        self.relaying = False

    def restore(self) -> None:
        self._drop_connections()
        with self.lock:
            if self.listener is None:
                self.listener = self._listen(self.port)
        self.relaying = True

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=2)
        with self.lock:
            if self.listener is not None:
                self.listener.close()
        self._drop_connections()


class PostgresMessages:
    """Counts the messages of PostgreSQL's frontend protocol that clients send (a
    ``Forwarder`` watch): ``Q`` a simple query, ``E`` an execute, ``S`` a sync (the end of
    an extended-protocol exchange). Needs unencrypted connections (``sslmode=disable``)."""

    STARTUP_CODES = {80877103, 80877104}  # SSLRequest, GSSENCRequest: another startup follows

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._buffers: dict[int, bytes] = {}
        self._started: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, connection_id: int, data: bytes) -> None:
        with self._lock:
            buffer = self._buffers.get(connection_id, b"") + data
            while True:
                if connection_id not in self._started:  # untyped startup packets
                    if len(buffer) < 8:
                        break
                    length, code = struct.unpack("!II", buffer[:8])
                    if len(buffer) < length:
                        break
                    if code not in self.STARTUP_CODES:
                        self._started.add(connection_id)
                    buffer = buffer[length:]
                    continue
                if len(buffer) < 5:
                    break
                kind, length = buffer[:1].decode(), struct.unpack("!I", buffer[1:5])[0]
                if len(buffer) < 1 + length:
                    break
                self.counts[kind] += 1
                buffer = buffer[1 + length:]
            self._buffers[connection_id] = buffer

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)

    @staticmethod
    def statements(counts: Counter[str]) -> int:
        """Statements run: simple queries and extended-protocol executes."""
        return counts["Q"] + counts["E"]

    @staticmethod
    def round_trips(counts: Counter[str]) -> int:
        """Exchanges that wait for the server: each simple query, and each sync."""
        return counts["Q"] + counts["S"]
