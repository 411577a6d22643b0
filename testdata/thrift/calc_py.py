#!/usr/bin/python3
"""Python peer of sluice's thrift_proxy tests, on Debian's python3-thrift.

  calc_py.py server GEN_DIR PORT NAME TRANSPORT PROTOCOL
  calc_py.py client GEN_DIR HOST:PORT TRANSPORT PROTOCOL [SERVICE]

GEN_DIR holds `thrift --gen py calc.thrift` output. Transports: framed,
unframed, header; protocols: binary, lax_binary, compact. The server serves
Calc (and Admin, multiplexed) with a thread per connection; the client makes
a fixed series of calls and prints one line per answer.

python3-thrift 0.17's non-strict binary read returns the method name as
bytes, which its processors cannot dispatch: the server refuses lax_binary
(the client speaks it: it writes non-strict and reads either).
"""
import sys
import time

sys.path.insert(0, sys.argv[2] + "/gen-py")

from calc import Admin, Calc  # noqa: E402
from calc.ttypes import CalcError, Item  # noqa: E402
from thrift.protocol import TBinaryProtocol, TCompactProtocol, TMultiplexedProtocol  # noqa: E402
from thrift.server import TServer  # noqa: E402
from thrift.Thrift import TApplicationException  # noqa: E402
from thrift.TMultiplexedProcessor import TMultiplexedProcessor  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402


def factories(transport, protocol):
    if transport == "header":
        from thrift.protocol.THeaderProtocol import THeaderProtocolFactory
        from thrift.transport.THeaderTransport import THeaderClientType
        return TTransport.TTransportFactoryBase(), THeaderProtocolFactory(
            allowed_client_types=(THeaderClientType.HEADERS,))
    tf = TTransport.TFramedTransportFactory() if transport == "framed" else TTransport.TBufferedTransportFactory()
    if protocol == "compact":
        return tf, TCompactProtocol.TCompactProtocolFactory()
    return tf, TBinaryProtocol.TBinaryProtocolFactory(strictRead=False, strictWrite=(protocol == "binary"))


class Handler:
    def __init__(self, name):
        self.name = name

    def add(self, a, b):
        return a + b

    def echo(self, s):
        return s

    def describe(self, it):
        it.values = (it.values or []) + [len(it.values or [])]
        return it

    def fail(self, code):
        if code > 0:
            raise CalcError(code=code, why="asked to fail")
        if code < 0:
            raise TApplicationException(TApplicationException.INTERNAL_ERROR, "server failure")
        return 0

    def note(self, s):
        print("note", s, flush=True)

    def sleep(self, ms):
        print("sleeping", ms, flush=True)
        time.sleep(ms / 1000.0 if ms >= 0 else 3600)
        return ms

    def whoami(self):
        return self.name


class AdminHandler:
    def __init__(self, name):
        self.name = name

    def whoami(self):
        return "admin@" + self.name

    def add(self, a, b):
        return a + b + 1000


def serve(port, name, transport, protocol):
    if protocol == "lax_binary":
        sys.exit("calc_py.py: python3-thrift cannot serve lax_binary (method names read as bytes)")
    mp = TMultiplexedProcessor()
    mp.registerDefault(Calc.Processor(Handler(name)))
    mp.registerProcessor("Calc", Calc.Processor(Handler(name)))
    mp.registerProcessor("Admin", Admin.Processor(AdminHandler(name)))
    tf, pf = factories(transport, protocol)
    sock = TSocket.TServerSocket(host="127.0.0.1", port=int(port))
    server = TServer.TThreadedServer(mp, sock, tf, pf, daemon=True)
    print("serving", port, flush=True)
    server.serve()


def client(addr, transport, protocol, service=None):
    host, port = addr.rsplit(":", 1)
    sock = TSocket.TSocket(host, int(port))
    sock.setTimeout(10000)
    tf, pf = factories(transport, protocol)
    trans = tf.getTransport(sock)
    if transport == "header":
        trans = sock
    prot = pf.getProtocol(trans)
    if transport != "header":
        trans.open()
    else:
        sock.open()
    if service:
        prot = TMultiplexedProtocol.TMultiplexedProtocol(prot, service)
    c = Calc.Client(prot)
    print("add", c.add(40, 2))
    print("echo", c.echo("py"))
    it = c.describe(Item(name="w", values=[7], attrs={"x": 0.5}, blob=b"\x00\x01"))
    print("describe", it.name, it.values, it.attrs, it.blob)
    try:
        c.fail(3)
    except CalcError as e:
        print("calcerror", e.code)
    try:
        c.fail(-1)
    except TApplicationException as e:
        print("appexception", e.type)
    c.note("from python")
    print("whoami", c.whoami())
    sock.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(*sys.argv[3:7])
    else:
        client(*sys.argv[3:])
