"""The hosted checkout's HTML pages, script and style sheet, in the manner of Payflow Link's.

Pages carry no inline script or style, so their Content-Security-Policy can forbid both; the
only script, ``checkout.js``, submits the return form so that a payer with JavaScript goes back
to the merchant at once (without it they press "Return to the merchant").
"""

from collections.abc import Iterable
from html import escape
from urllib.parse import urlsplit

from portal.payments.payflow_sandbox.cards import SandboxCard

TITLE = "PayPal Payflow checkout (offline sandbox)"

CHECKOUT_JS = b"""\
"use strict";
// Back to the merchant at once; without JavaScript the payer presses the form's button.
document.getElementById("return-to-merchant").submit();
"""

# Colours meet WCAG AA contrast on white (text 16:1, buttons and errors over 7:1).
CHECKOUT_CSS = b"""\
body { margin: 0; font: 1rem/1.5 system-ui, sans-serif; color: #1a1a1a; background: #fff; }
.banner { margin: 0; padding: 0.5rem 1rem; background: #fff4ce; border-bottom: 1px solid #8a6d00; }
main { max-width: 32rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
select { font: inherit; padding: 0.4rem; max-width: 100%; color: #1a1a1a; }
.hint { color: #404040; font-size: 0.9rem; }
.error { color: #a4000f; font-weight: 600; }
button { font: inherit; padding: 0.5rem 1.25rem; margin-top: 1rem; border-radius: 4px; cursor: pointer;
         background: #0b4f9c; color: #fff; border: 2px solid #0b4f9c; }
button.secondary { background: #fff; color: #0b4f9c; }
:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 2px; }
"""


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def csp(form_targets: Iterable[str]) -> str:
    """No inline code, nothing from elsewhere; forms may post only to ``form_targets``."""
    targets = " ".join(dict.fromkeys(form_targets)) or "'none'"
    return f"default-src 'none'; script-src 'self'; style-src 'self'; form-action {targets}; base-uri 'none'"


def _document(title: str, main: str, script: bool = False) -> str:
    script_tag = '\n<script src="/checkout.js" defer></script>' if script else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/checkout.css">{script_tag}
</head>
<body>
<p class="banner">Offline sandbox: no card is charged and no money moves.</p>
<main>
{main}
</main>
</body>
</html>
"""


def _hidden(fields: dict[str, str]) -> str:
    return "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )


def _options(cards: Iterable[SandboxCard]) -> str:
    cards = list(cards)
    groups = (
        ("Approved", [c for c in cards if c.approved]),
        ("Declined", [c for c in cards if not c.approved]),
    )
    return "\n".join(
        f'<optgroup label="{group}">\n'
        + "\n".join(f'<option value="{escape(c.key)}">{escape(c.label)}</option>' for c in members)
        + "\n</optgroup>"
        for group, members in groups
    )


def checkout_page(token: dict, cards: Iterable[SandboxCard], error: str | None = None) -> str:
    """The payment form: the amount, the merchant's references, a test card to pick, Pay or Cancel."""
    amount = f"{escape(token['amount'])} {escape(token['currency'])}"
    references = "".join(
        f"\n<dt>{label}</dt><dd>{escape(token[key])}</dd>"
        for label, key in (("Merchant reference", "custref"), ("Invoice number", "invnum"))
        if token[key]
    )
    ids = {"SECURETOKEN": token["token"], "SECURETOKENID": token["token_id"]}
    alert = f'<p class="error" role="alert" id="card-error">{escape(error)}</p>\n' if error else ""
    described_by = "card-hint card-error" if error else "card-hint"
    main = f"""<h1>Pay {amount}</h1>
<dl>
<dt>Amount</dt><dd>{amount}</dd>{references}
</dl>
{alert}<form method="post" action="/checkout">
{_hidden(ids)}
<label for="card">Test card</label>
<select id="card" name="card" required aria-describedby="{described_by}">
{_options(cards)}
</select>
<p class="hint" id="card-hint">Each test card gives a fixed outcome. Only the last four digits are shown.</p>
<button type="submit">Pay</button>
</form>
<form method="post" action="{escape(token["cancel_url"])}">
{_hidden(ids)}
<button type="submit" class="secondary">Cancel and return to the merchant</button>
</form>"""
    return _document(TITLE, main)


def result_page(token: dict, fields: dict[str, str]) -> str:
    """The outcome, and the form that takes the payer back to the merchant's RETURNURL with it."""
    heading = "Payment approved" if fields["RESULT"] == "0" else f"Payment declined: {fields['RESPMSG']}"
    main = f"""<h1>{escape(heading)}</h1>
<p>Reference {escape(fields["PNREF"])}, {escape(fields["AMT"])} {escape(fields["CURRENCY"])}.</p>
<form method="post" action="{escape(token["return_url"])}" id="return-to-merchant">
{_hidden(fields)}
<button type="submit">Return to the merchant</button>
</form>"""
    return _document(f"{heading} — {TITLE}", main, script=True)


def refused_page(message: str) -> str:
    """A checkout that cannot go ahead (unknown, expired or used token): why, and no form."""
    main = f"""<h1>{escape(message)}</h1>
<p>No payment was taken. Go back to the merchant's site to start the payment again.</p>"""
    return _document(f"{message} — {TITLE}", main)
