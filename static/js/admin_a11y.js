// Django admin widgets, WCAG 2.1 AA: the autocomplete boxes (select2) take the name of their
// field's label, and the filter boxes' help icons carry their text as an image's name.
(function () {
  "use strict";

  function fix() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      var box = select.parentElement.querySelector('.select2-selection[role="combobox"]');
      if (label && box) {
        if (!label.id) label.id = select.id + "-label";
        box.setAttribute("aria-labelledby", label.id);
        var shown = box.querySelector(".select2-selection__rendered");
        if (shown) shown.setAttribute("aria-labelledby", label.id);
      }
    });
    // Split date and time inputs: "Starts at, date" and "Starts at, time".
    document.querySelectorAll(".datetime input").forEach(function (input) {
      if (input.getAttribute("aria-label")) return;
      var row = input.closest(".form-row, .fieldBox, fieldset");
      var title = row ? row.querySelector("label, legend") : null;
      var name = title ? title.textContent.replace(/[:*]/g, "").trim() : "";
      var part = /_1$/.test(input.id) ? "time" : "date";
      input.setAttribute("aria-label", (name ? name + ", " : "") + part);
    });
    document.querySelectorAll(".help-tooltip[aria-label]").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  window.addEventListener("load", function () {
    fix();
    // Widgets build themselves after load, later on a busy machine: name them as they appear.
    new MutationObserver(function (changes) {
      if (changes.some(function (change) { return change.addedNodes.length; })) fix();
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
