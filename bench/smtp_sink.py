"""An SMTP server that accepts every mail and drops it: production authql
refuses to start without AUTHQL_SMTP_URL, and the benchmarks measure the
API, not mail.

    python3 bench/smtp_sink.py PORT
"""

import socketserver
import sys


class Conversation(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 bench-sink ESMTP\r\n")
        in_data = False
        for line in self.rfile:
            if in_data:
                if line in (b".\r\n", b".\n"):
                    in_data = False
                    self.wfile.write(b"250 2.0.0 dropped\r\n")
                continue
            command = line.strip().upper()
            if command.startswith(b"EHLO"):
                self.wfile.write(b"250-bench-sink\r\n250 8BITMIME\r\n")
            elif command == b"DATA":
                in_data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 2.0.0 ok\r\n")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), Conversation) as server:
        server.serve_forever()
