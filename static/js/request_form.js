/*
 * The request form (templates/intake/request_form.html), made quicker to fill in:
 * - line items are added and removed in place (the formset's management form is kept in
 *   step), with each line's amount, the total per billing period and the total cost of
 *   ownership worked out as the requester types, by the rule of
 *   intake.models.total_cost_of_ownership;
 * - the "required" star of the term and of the integration details follows billing and the
 *   integration checkbox, as submit does;
 * - the vendor picker's results fill in "Existing vendor", whose status and risk tier show
 *   under it;
 * - after a failed submit the error summary takes the focus, and its links move the focus to
 *   their field.
 * Without JavaScript the form still works: a "Remove" checkbox per line and a new empty
 * line per save. A static file, so the Content-Security-Policy needs no 'unsafe-inline'.
 */
(function () {
  "use strict";

  var form = document.getElementById("request-form");
  if (!form) {
    return;
  }
  var PREFIX = "items";
  var table = document.getElementById("line-items");
  var body = table ? table.querySelector("tbody") : null;
  var template = document.getElementById("line-item-template");
  var totalForms = form.querySelector('[name="' + PREFIX + '-TOTAL_FORMS"]');
  var maxForms = form.querySelector('[name="' + PREFIX + '-MAX_NUM_FORMS"]');
  var addButton = document.getElementById("add-line");
  var billing = form.querySelector('[name="billing"]');
  var term = form.querySelector('[name="term_months"]');
  var currency = form.querySelector('[name="currency"]');
  var integrates = form.querySelector('[name="integrates_with_systems"]');

  // ---- money, in cents so that sums are exact --------------------------------------------

  function cents(text) {
    // "1,234.5" or "1234.50" -> 123450; anything else -> null
    var value = String(text || "").trim().replace(/[\s,]/g, "");
    if (!/^\d+(\.\d{0,2})?$/.test(value)) {
      return null;
    }
    var parts = value.split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }

  function quantityHundredths(text) {
    return cents(text); // the quantity has two decimals too
  }

  // The page's language, as the server formats money in it (core.formats.money).
  var locale = form.getAttribute("data-locale") || document.documentElement.lang || "en";

  function money(amountInCents) {
    // As core.formats.money writes it: thousands separators always (even "1,234"), the
    // currency's own number of decimals (its option's data-digits, else two), rounded half to
    // even as the server's Decimal is, then the ISO code: "30,000.00 EUR", "30.000,00 EUR".
    var code = currency ? currency.value : "";
    var option = currency ? currency.options[currency.selectedIndex] : null;
    var digits = option && option.hasAttribute("data-digits") ?
      parseInt(option.getAttribute("data-digits"), 10) : 2;
    var options = {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      useGrouping: "always",
      roundingMode: "halfEven",
    };
    var number;
    try {
      number = new Intl.NumberFormat(locale, options).format(amountInCents / 100);
    } catch (error) { // a language tag the browser does not know
      number = new Intl.NumberFormat("en", options).format(amountInCents / 100);
    }
    return code ? number + " " + code : number;
  }

  function periods() {
    // null: recurring billing without a term has no total yet
    var kind = billing ? billing.value : "one_off";
    if (kind === "one_off") {
      return 1;
    }
    var months = parseInt(term ? term.value : "", 10);
    if (!(months > 0)) {
      return null;
    }
    return kind === "monthly" ? months : Math.ceil(months / 12);
  }

  function liveRows() {
    return body ? Array.prototype.filter.call(body.rows, function (row) {
      return !row.hidden;
    }) : [];
  }

  function field(row, name) {
    return row.querySelector('[name$="-' + name + '"]');
  }

  function recompute() {
    if (!body) {
      return;
    }
    var period = 0;
    liveRows().forEach(function (row) {
      var quantity = quantityHundredths(field(row, "quantity").value);
      var price = cents(field(row, "unit_price").value);
      var cell = row.querySelector("[data-line-amount]");
      if (quantity === null || price === null || quantity === 0 || price === 0) {
        cell.textContent = "—";
        return;
      }
      // hundredths x cents / 100 = cents, rounded half up as the server does
      var amount = Math.round((quantity * price) / 100);
      period += amount;
      cell.textContent = money(amount);
    });
    var count = periods();
    document.getElementById("period-total").textContent = period ? money(period) : "—";
    var tco = document.getElementById("tco-total");
    var note = document.getElementById("tco-note");
    if (!period) {
      tco.textContent = "—";
      note.textContent = "Add a line with a quantity and a unit price.";
    } else if (count === null) {
      tco.textContent = "—";
      note.textContent = "Give the term in months to see the total of a recurring purchase.";
    } else {
      tco.textContent = money(period * count);
      note.textContent = count === 1 && billing && billing.value === "one_off" ?
        "Paid once." : "Billed " + count + " time" + (count === 1 ? "" : "s") + " over the term.";
    }
  }

  // ---- adding and removing lines ---------------------------------------------------------

  function renumberRemoveLabels() {
    liveRows().forEach(function (row, index) {
      var button = row.querySelector("[data-remove-line]");
      var description = field(row, "description").value.trim();
      button.setAttribute(
        "aria-label",
        "Remove line " + (index + 1) + (description ? " (" + description + ")" : "")
      );
    });
  }

  function enhanceRow(row) {
    var box = row.querySelector("[data-delete-box]");
    var button = row.querySelector("[data-remove-line]");
    if (box) {
      box.hidden = true;
    }
    if (button) {
      button.hidden = false;
    }
  }

  function addLine() {
    var index = parseInt(totalForms.value, 10);
    if (maxForms && index >= parseInt(maxForms.value, 10)) {
      addButton.disabled = true;
      return;
    }
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("tbody");
    holder.innerHTML = html.trim();
    var row = holder.querySelector("tr");
    body.appendChild(row);
    totalForms.value = String(index + 1);
    enhanceRow(row);
    renumberRemoveLabels();
    recompute();
    field(row, "description").focus();
  }

  function removeLine(row) {
    var rows = liveRows();
    var position = rows.indexOf(row);
    var box = row.querySelector('input[type="checkbox"][name$="-DELETE"]');
    if (box) {
      box.checked = true; // the server leaves out lines marked for deletion
    }
    row.hidden = true;
    var left = liveRows();
    renumberRemoveLabels();
    recompute();
    form.dispatchEvent(new Event("change", { bubbles: true })); // refreshes the approvers
    var next = left[Math.min(position, left.length - 1)];
    if (next) {
      field(next, "description").focus();
    } else {
      addButton.focus();
    }
  }

  if (body && template && totalForms && addButton) {
    Array.prototype.forEach.call(body.rows, enhanceRow);
    addButton.hidden = false;
    var hint = form.querySelector("[data-no-script-hint]");
    if (hint) {
      hint.hidden = true;
    }
    addButton.addEventListener("click", addLine);
    body.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-line]");
      if (button) {
        removeLine(button.closest("tr"));
      }
    });
    body.addEventListener("input", function () {
      recompute();
      renumberRemoveLabels();
    });
    renumberRemoveLabels();
  }
  [billing, term, currency].forEach(function (element) {
    if (element) {
      element.addEventListener("input", recompute);
      element.addEventListener("change", recompute);
    }
  });

  // ---- stars that depend on other answers ------------------------------------------------

  function updateConditionalStars() {
    var holds = {
      recurring: billing ? billing.value !== "one_off" : false,
      integrates: integrates ? integrates.checked : false,
    };
    form.querySelectorAll("[data-required-when]").forEach(function (star) {
      star.hidden = !holds[star.getAttribute("data-required-when")];
    });
  }
  [billing, integrates].forEach(function (element) {
    if (element) {
      element.addEventListener("change", updateConditionalStars);
    }
  });

  // ---- the vendor picker -----------------------------------------------------------------

  var vendorSelect = form.querySelector('[name="vendor"]');
  var picker = form.querySelector("[data-vendor-picker]");
  var results = document.getElementById("vendor-results");
  var search = document.getElementById("vendor-search");
  var facts = document.getElementById("vendor-facts");

  function showVendorFacts() {
    if (!vendorSelect || !facts) {
      return;
    }
    var option = vendorSelect.options[vendorSelect.selectedIndex];
    if (!option || !option.value) {
      facts.hidden = true;
      facts.textContent = "";
      return;
    }
    var status = option.getAttribute("data-status") || "";
    var tier = option.getAttribute("data-tier") || "";
    var approved = option.getAttribute("data-approved") === "true";
    facts.textContent = "Status: " + status + " · Risk tier: " + tier +
      (approved ? "" : " · Not approved yet: its joint review comes before your request's.");
    facts.classList.toggle("text-warning-emphasis", !approved);
    facts.classList.toggle("text-body-secondary", approved);
    facts.hidden = false;
  }

  if (vendorSelect && picker && results) {
    picker.hidden = false;
    vendorSelect.addEventListener("change", showVendorFacts);
    results.addEventListener("click", function (event) {
      var choice = event.target.closest("[data-pick-vendor]");
      if (!choice) {
        return;
      }
      var id = choice.getAttribute("data-pick-vendor");
      if (!vendorSelect.querySelector('option[value="' + id + '"]')) {
        // Among many vendors the list holds only the chosen one: the picked vendor joins it.
        var option = new Option(choice.getAttribute("data-vendor-name"), id);
        ["status", "approved", "tier"].forEach(function (name) {
          option.setAttribute("data-" + name, choice.getAttribute("data-vendor-" + name) || "");
        });
        vendorSelect.add(option);
      }
      vendorSelect.value = id;
      // htmx listens for "change" (duplicate check, approvers preview)
      vendorSelect.dispatchEvent(new Event("change", { bubbles: true }));
      results.innerHTML = "";
      search.value = "";
      vendorSelect.focus();
    });
    // Enter in the search box picks the first result instead of submitting the form.
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        var first = results.querySelector("[data-pick-vendor]");
        if (first) {
          first.click();
        }
      } else if (event.key === "ArrowDown") {
        var firstChoice = results.querySelector("[data-pick-vendor]");
        if (firstChoice) {
          event.preventDefault();
          firstChoice.focus();
        }
      }
    });
    results.addEventListener("keydown", function (event) {
      var choices = Array.prototype.slice.call(results.querySelectorAll("[data-pick-vendor]"));
      var index = choices.indexOf(document.activeElement);
      if (index < 0) {
        return;
      }
      if (event.key === "ArrowDown" && index < choices.length - 1) {
        event.preventDefault();
        choices[index + 1].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (index > 0 ? choices[index - 1] : search).focus();
      } else if (event.key === "Escape") {
        results.innerHTML = "";
        search.focus();
      }
    });
  }

  // ---- the error summary -----------------------------------------------------------------

  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) {
        return;
      }
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (target) {
        event.preventDefault();
        target.scrollIntoView({ block: "center" });
        target.focus();
      }
    });
  }

  updateConditionalStars();
  showVendorFacts();
  recompute();
})();
