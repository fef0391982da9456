// Keyboard access to tables wider than their box (WCAG 2.1.1): a table that scrolls sideways
// gets a tab stop and a name, so it can be scrolled with the arrow keys; a table that fits
// stays out of the tab order. Runs on load, on resize and after htmx swaps.
(function () {
  "use strict";

  function nameOf(box) {
    var caption = box.querySelector("caption");
    var holder = box.closest("section, .card, fieldset");
    var heading = holder ? holder.querySelector("h2, h3, legend") : null;
    var text = (caption || heading || {}).textContent || "";
    return (text.trim() || "Table") + " (scrolls sideways)";
  }

  function update() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("data-scroll-region")) {
        box.setAttribute("data-scroll-region", "");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", nameOf(box));
      } else if (!scrolls && box.hasAttribute("data-scroll-region")) {
        ["data-scroll-region", "tabindex", "role", "aria-label"].forEach(function (name) {
          box.removeAttribute(name);
        });
      }
    });
  }

  var pending = null;
  function later() {
    window.clearTimeout(pending);
    pending = window.setTimeout(update, 100);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", later);
})();
