"""Webhook notifications signed exactly as Braintree signs them (notes §3), and their delivery.

``bt_payload`` is ``base64.encodebytes`` of the ``<notification>`` XML (with its
newlines); ``bt_signature`` is ``public_key|hex(HMAC-SHA1(key=SHA1(private_key), payload))``,
so ``gateway.webhook_notification.parse`` in the real SDK accepts it.
"""

import base64
import hashlib
import hmac
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime

from portal.payments.sandbox import render

TRANSACTION_KINDS = ("transaction_settled", "transaction_settlement_declined")
# notification kind -> the dispute status it reports
DISPUTE_KINDS = {
    "dispute_opened": "open",
    "dispute_under_review": "under_review",
    "dispute_disputed": "disputed",
    "dispute_won": "won",
    "dispute_lost": "lost",
    "dispute_accepted": "accepted",
    "dispute_auto_accepted": "auto_accepted",
    "dispute_expired": "expired",
}
KINDS = ("check", *TRANSACTION_KINDS, *DISPUTE_KINDS)


def notification_xml(
    kind: str, subject_xml: str, timestamp: datetime, source_merchant_id: str | None = None
) -> bytes:
    source = render.node("source_merchant_id", source_merchant_id) if source_merchant_id else ""
    xml = (
        f"<notification>{render.node('kind', kind)}{render.node('timestamp', timestamp)}{source}"
        f"<subject>{subject_xml}</subject></notification>"
    )
    return (render.DECLARATION + xml).encode("utf-8")


def sign(public_key: str, private_key: str, xml: bytes) -> dict[str, str]:
    payload = base64.encodebytes(xml)
    key = hashlib.sha1(private_key.encode()).digest()
    digest = hmac.new(key, payload, hashlib.sha1).hexdigest()
    return {"bt_signature": f"{public_key}|{digest}", "bt_payload": payload.decode("ascii")}


def deliver(url: str, notification: dict[str, str], timeout: float = 10) -> int:
    """Form-POST a signed notification (never through an environment proxy); the receiver's status code."""
    data = urllib.parse.urlencode(notification).encode("ascii")
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("User-Agent", "Braintree Webhooks (offline sandbox)")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
