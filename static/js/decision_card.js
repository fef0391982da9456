// The request page's keys (issue 29), listed on the page: a focuses Approve; c and r choose
// "request changes" or "reject" and move to the reason box, where the reviewer writes why and
// sends it with the chosen button (or Ctrl+Enter): nothing is decided by a single key. j and k
// follow the "Next in your queue" and "Previous" links, which work without this script. No key
// acts while the reader types in a field, or with Ctrl, Alt or Meta held.
// A static file, as the Content-Security-Policy refuses inline scripts.
(() => {
  "use strict";

  const form = document.getElementById("decision-form");
  const box = form ? form.querySelector("textarea[name=comment]") : null;
  const help = form ? form.querySelector("[data-decision-help]") : null;
  const SAY = {
    request_changes: "Requesting changes: say what to change, then press Request changes (or Ctrl+Enter).",
    reject: "Rejecting: say why, then press Reject (or Ctrl+Enter).",
  };
  const SOLID = { request_changes: "btn-warning", reject: "btn-danger" };

  function button(decision) {
    return form ? form.querySelector(`button[data-decision="${decision}"]`) : null;
  }

  function choose(decision) {
    form.dataset.chosen = decision;
    Object.entries(SOLID).forEach(([name, solid]) => {
      const each = button(name);
      if (!each) return;
      each.classList.toggle(solid, name === decision);
      each.classList.toggle(`btn-outline-${solid.slice(4)}`, name !== decision);
    });
    if (help && SAY[decision]) help.textContent = SAY[decision];
    box.focus();
  }

  function typing(target) {
    return target instanceof HTMLElement && (
      target.isContentEditable || target.closest("input, textarea, select, [contenteditable]")
    );
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    if (typing(event.target)) return;
    const key = event.key;
    if (form && key === "a") {
      button("approve").focus();
    } else if (form && (key === "c" || key === "r")) {
      const decision = key === "c" ? "request_changes" : "reject";
      if (!button(decision)) return;
      choose(decision);
    } else if (key === "j" || key === "k") {
      const link = document.querySelector(`a[data-queue-key="${key}"]`);
      if (!link) return;
      window.location.assign(link.href);
    } else {
      return;
    }
    event.preventDefault(); // the letter is not typed into the box that now has the focus
  });

  if (box) {
    // Ctrl+Enter (Cmd+Enter) in the reason box sends the decision chosen with c or r, as its
    // button would; without a chosen decision it does nothing.
    box.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
      const chosen = button(form.dataset.chosen);
      if (!chosen) return;
      event.preventDefault();
      form.requestSubmit(chosen);
    });
    // A refused decision: the box with its error has the focus (autofocus gives it), in the
    // middle of the screen so that the error under it shows too, on a phone as well. After
    // the load, when the browser has scrolled to the autofocused box its own way.
    if (box.getAttribute("aria-invalid") === "true") {
      window.addEventListener("load", () => {
        box.focus({ preventScroll: true });
        box.scrollIntoView({ block: "center" });
      });
    }
  }

  // Links to the steps (#steps, from e-mails, chat and the queue) land on the decision card,
  // where the reader decides.
  const card = document.getElementById("decide");
  if (card && window.location.hash === "#steps") {
    window.addEventListener("load", () => card.scrollIntoView({ block: "start" }));
  }
})();
