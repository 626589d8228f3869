// openscore: progressive enhancement only. Every form works without this file.
// A form that is being sent is marked busy and not sent twice by a second click
// (the server is harmless on a double submission anyway).
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
  if (form.getAttribute("aria-busy") === "true") {
    event.preventDefault();
    return;
  }
  form.setAttribute("aria-busy", "true");
  window.setTimeout(function () { form.removeAttribute("aria-busy"); }, 8000);
});
// Move focus to an error summary so that keyboard and screen-reader users hear it first.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) summary.focus();
});
// The verify page: a link ".../verify#TOKEN" carries the statement in the fragment (which
// never reaches a server log); put it in the box.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-fill-from-hash]");
  if (box && !box.value && window.location.hash.length > 1) {
    box.value = decodeURIComponent(window.location.hash.slice(1));
  }
});
