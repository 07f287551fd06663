#!/usr/bin/env python3
"""Local AWS emulator for vpcwarden: moto server plus vpcwarden_emulator, on loopback.

Usage: tests/emulator/server.py --host 127.0.0.1 --port N [--state-dir DIR]

The socket is bound before anything is printed; once it accepts connections
the server prints "ready <port>" on stdout (so --port 0 picks a free port and
reports it) and, with --state-dir, writes DIR/emulator.json
({"host", "port", "pid", "url"}).  The host must be a loopback address.
"""
import argparse
import ipaddress
import json
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--state-dir", default=None, help="write emulator.json (host, port, pid, url) here once ready")
    args = p.parse_args(argv)
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        p.error(f"--host {args.host} is not a loopback address; the emulator never leaves 127.0.0.0/8")
    if not 0 <= args.port <= 65535:
        p.error(f"--port {args.port} is out of range")
    return args


def build_app():
    """moto's WSGI dispatcher with vpcwarden's patches and middleware."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    import vpcwarden_emulator
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    vpcwarden_emulator.apply()
    app = DomainDispatcherApplication(create_backend_app)
    return vpcwarden_emulator.wrap_app(app)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    app = build_app()
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    os.environ.setdefault("MOTO_PORT", str(port))
    import vpcwarden_emulator

    url_host = f"[{args.host}]" if ":" in args.host else args.host
    vpcwarden_emulator.configure(state_dir=args.state_dir, url=f"http://{url_host}:{port}")

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.state_dir:
        os.makedirs(args.state_dir, exist_ok=True)
        host = f"[{args.host}]" if ":" in args.host else args.host
        state = {"host": args.host, "port": port, "pid": os.getpid(), "url": f"http://{host}:{port}"}
        tmp = os.path.join(args.state_dir, "emulator.json.tmp")
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, os.path.join(args.state_dir, "emulator.json"))
    print(f"ready {port}", flush=True)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
        import vpcwarden_emulator

        vpcwarden_emulator.shutdown()  # no orphan Lambda processes (os._exit skips atexit)
        sys.stdout.flush()
        sys.stderr.flush()
        # Nothing to persist; skip tearing down moto's large in-memory state
        # at interpreter exit, which takes seconds.
        os._exit(0)


if __name__ == "__main__":
    main()
