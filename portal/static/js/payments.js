// Braintree Hosted Fields and PayPal Checkout (real Braintree only).
// The card number is typed into Braintree's iframes; only a one-time nonce reaches our server.
(function () {
  "use strict";
  var root = document.getElementById("braintree-hosted");
  if (!root || !window.braintree) return;
  var form = root.closest("form");
  var nonceInput = document.getElementById("payment-method-nonce");
  var errorBox = document.getElementById("payment-error");

  function show(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  window.braintree.client.create({ authorization: root.dataset.clientToken }, function (err, client) {
    if (err) { show(root.dataset.unavailable); return; }

    if (root.dataset.cards === "true") {
      window.braintree.hostedFields.create({
        client: client,
        fields: {
          number: { container: "#card-number" },
          expirationDate: { container: "#card-expiration", placeholder: "MM/YY" },
          cvv: { container: "#card-cvv" }
        }
      }, function (fieldsErr, hostedFields) {
        if (fieldsErr) { show(root.dataset.unavailable); return; }
        form.addEventListener("submit", function (event) {
          if (nonceInput.value) return; // PayPal already gave us a nonce
          event.preventDefault();
          hostedFields.tokenize(function (tokenizeErr, payload) {
            if (tokenizeErr) { show(root.dataset.invalidCard); return; }
            nonceInput.value = payload.nonce;
            form.submit();
          });
        });
      });
    }

    if (root.dataset.paypal === "true") {
      window.braintree.paypalCheckout.create({ client: client }, function (ppErr, paypalCheckout) {
        if (ppErr) { show(root.dataset.unavailable); return; }
        paypalCheckout.loadPayPalSDK({ currency: root.dataset.currency, intent: "capture" }, function () {
          window.paypal.Buttons({
            fundingSource: window.paypal.FUNDING.PAYPAL,
            createOrder: function () {
              return paypalCheckout.createPayment({
                flow: "checkout", intent: "capture",
                amount: root.dataset.amount, currency: root.dataset.currency
              });
            },
            onApprove: function (data) {
              return paypalCheckout.tokenizePayment(data).then(function (payload) {
                nonceInput.value = payload.nonce;
                form.submit();
              });
            },
            onError: function () { show(root.dataset.unavailable); }
          }).render("#paypal-button");
        });
      });
    }
  });
})();
