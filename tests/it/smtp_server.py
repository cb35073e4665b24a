"""A real SMTP server on loopback (aiosmtpd) for the email channel's test.

Prints its port, then saves each message it takes to OUT_DIR as one JSON
file (envelope and the parsed, decoded headers and body) until its stdin
closes.
"""

import email
import email.policy
import json
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Save:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        # A page is plain text; player comms are text and HTML alternatives.
        if msg.is_multipart():
            plain = msg.get_body(preferencelist=("plain",))
            html = msg.get_body(preferencelist=("html",))
            body = plain.get_content() if plain else ""
            html = html.get_content() if html else None
        else:
            body, html = msg.get_content(), None
        self.n += 1
        path = os.path.join(self.out, f"{self.n:04}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "subject": str(msg["subject"]),
                    "from": str(msg["from"]),
                    "to": str(msg["to"]),
                    "message_id": str(msg["message-id"]),
                    "in_reply_to": msg["in-reply-to"] and str(msg["in-reply-to"]),
                    "references": msg["references"] and str(msg["references"]),
                    "content_type": msg.get_content_type(),
                    "body": body,
                    "html": html,
                },
                f,
            )
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


def main():
    out = sys.argv[1]
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    controller = Controller(Save(out), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


main()
