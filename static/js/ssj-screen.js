/* The projector view opens in a window of its own (<a data-screen-window>), to be
   dragged onto the projector. As a tab in front of the ceremony page it would hide
   that page, and Chromium holds back a hidden tab: each witness entry then took
   1.3–2.3 s instead of 0.3 s (bench/ceremony_screen.py --browser). Without
   JavaScript the link's target="_blank" still opens it beside the page. */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("a[data-screen-window]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var opened = window.open(link.href, link.dataset.screenWindow, "popup,width=1280,height=720");
      if (opened) {
        event.preventDefault();
        opened.focus();
      }
    });
  });
});
