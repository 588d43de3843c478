"""Serves a directory over HTTP with Range support, for tessera-store's HTTP read tests.

RangeHTTPServer's request handler on a threaded server whose listen backlog holds the 64
requests a tessera-store client keeps in flight (`python -m RangeHTTPServer` keeps the standard
backlog of 5, so a batch read spends seconds in TCP retransmissions).
"""

import argparse
import functools
import http.server

from RangeHTTPServer import RangeRequestHandler


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", required=True)
    args = parser.parse_args()
    handler = functools.partial(RangeRequestHandler, directory=args.directory)
    with Server((args.bind, args.port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
