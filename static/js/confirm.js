// Asks before a form with data-confirm="…" is submitted; cancelling stops the submission.
// A static file instead of inline onsubmit handlers, which the Content-Security-Policy refuses.
(() => {
  "use strict";
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
