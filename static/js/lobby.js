// Small behaviours every staff page may use, declared in the markup with data-*
// attributes (the Content-Security-Policy allows no inline script, no on*= handler
// and no hx-on: they all live here or in the page's own file).
//   <button data-print>                         prints the page
//   <button data-dismiss>                       removes its parent (a notice's ✕)
//   <button hx-get=... data-focus-after="SEL">  after its request, scrolls to and
//                                               focuses the element SEL names
//   <input data-no-enter>                       Enter in it does not send the form
//   <details class="menu">                      a drop-down: closes on a click outside
//                                               it or on Escape
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(target)) menu.removeAttribute("open");
    });
    if (target.closest("[data-print]")) {
      window.print();
      return;
    }
    var dismiss = target.closest("[data-dismiss]");
    if (dismiss && dismiss.parentNode) dismiss.parentNode.remove();
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      document.querySelectorAll("details.menu[open]").forEach(function (menu) {
        menu.removeAttribute("open");
      });
    }
    if (e.key === "Enter" && e.target instanceof Element && e.target.matches("[data-no-enter]")) {
      e.preventDefault();
    }
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    var selector = elt && elt.getAttribute && elt.getAttribute("data-focus-after");
    if (!selector) return;
    // After the swap has settled (htmx swaps right after this event).
    setTimeout(function () {
      var field = document.querySelector(selector);
      if (field) {
        field.scrollIntoView({ block: "center" });
        field.focus();
      }
    }, 50);
  });
})();
