// Create Refund: add up the ticked amounts and the adjustment as they are typed. The server
// checks every amount again; this only shows the total before the button is pressed.
(function () {
  var form = document.getElementById("refund-form");
  var out = document.getElementById("refund-total");
  if (!form || !out) { return; }
  var currency = form.getAttribute("data-currency");
  var format = null;
  try {  // in the page's language, as the server writes money (|money)
    format = new Intl.NumberFormat(document.documentElement.lang || "en",
                                   { style: "currency", currency: currency });
  } catch (error) { format = null; }
  var digits = format ? format.resolvedOptions().maximumFractionDigits : 2;
  var scale = Math.pow(10, digits);

  // An amount as typed ("12.34" or "12,34") in minor units; null when it is not one.
  function minorUnits(text, blank) {
    text = text.trim();
    if (!text) { return blank; }
    var match = /^([0-9]+)(?:[.,]([0-9]+))?$/.exec(text);
    if (!match || (match[2] || "").length > digits) { return null; }
    var fraction = ((match[2] || "") + "000").slice(0, digits);
    return parseInt(match[1], 10) * scale + (fraction ? parseInt(fraction, 10) : 0);
  }

  function update() {
    var total = 0;
    var valid = true;
    form.querySelectorAll("tr").forEach(function (row) {
      var pick = row.querySelector("input.refund-pick");
      var amount = row.querySelector("input.refund-amount");
      if (!pick || !amount || !pick.checked) { return; }
      var value = minorUnits(amount.value, parseInt(amount.getAttribute("data-refundable"), 10));
      if (value === null) { valid = false; } else { total += value; }
    });
    var adjustment = minorUnits(document.getElementById("adjustment").value, 0);
    if (adjustment === null) { valid = false; } else { total += adjustment; }
    if (!valid) {
      out.textContent = "–";
    } else if (format) {
      out.textContent = format.format(total / scale);
    } else {
      out.textContent = (total / scale).toFixed(digits) + " " + currency;
    }
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
