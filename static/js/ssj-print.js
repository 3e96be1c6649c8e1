/* Print buttons: <button hidden data-print> is shown and wired here, so
   without JavaScript there is no dead button (the page says Ctrl+P). */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
