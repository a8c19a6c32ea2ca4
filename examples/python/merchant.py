"""edgepay from a Python merchant backend: create a checkout session, verify a webhook.

pip install standardwebhooks==1.1.0   (the HTTP call uses only the standard library)
"""
import json
import os
import sys
import urllib.error
import urllib.request

from standardwebhooks.webhooks import Webhook

EDGEPAY_URL = os.environ["EDGEPAY_URL"]  # your worker, e.g. https://pay.example.com
API_KEY = os.environ.get("EDGEPAY_MERCHANT_API_KEY", "")  # server side only, never in a page
WEBHOOK_SECRET = os.environ.get("EDGEPAY_WEBHOOK_SECRET", "")  # whsec_…


def create_session(order_id: str, amount_fen: int, description: str) -> dict:
    """Creates a session for an order: give its id and client_secret to the page's widget."""
    body = {"order_id": order_id, "amount": amount_fen, "currency": "CNY", "description": description}
    request = urllib.request.Request(
        f"{EDGEPAY_URL}/v1/sessions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json", "Idempotency-Key": order_id},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)  # {id, client_secret, status, amount, currency, expires_at}
    except urllib.error.HTTPError as refused:
        raise RuntimeError(f"edgepay refused the session: {refused.code} {json.load(refused)['error']['code']}") from None


def verify_webhook(raw_body: bytes, headers: dict) -> dict:
    """Checks a webhook over its raw body and headers; returns the event or raises."""
    # Then apply it once: remember headers["webhook-id"] with the order's new status.
    return Webhook(WEBHOOK_SECRET).verify(raw_body, headers)


# Try it: python merchant.py create ORDER_ID AMOUNT_FEN DESCRIPTION
#         python merchant.py verify WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE < raw-body
if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "create":
        print(json.dumps(create_session(args[0], int(args[1]), args[2])))
    elif command == "verify":
        names = ("webhook-id", "webhook-timestamp", "webhook-signature")
        print(json.dumps(verify_webhook(sys.stdin.buffer.read(), dict(zip(names, args)))))
