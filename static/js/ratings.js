// Ratings: the print button on the QR sheet, and naming the photo chosen. Works without script.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-photo-input]")) return;
    var shown = document.getElementById("photo-chosen");
    var file = input.files && input.files[0];
    // Only one photo goes with a rating: the other button's choice is cleared.
    document.querySelectorAll("[data-photo-input]").forEach(function (other) {
      if (other !== input) other.value = "";
    });
    if (shown) shown.textContent = file ? "已选择照片:" + file.name : "";
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print]");
    if (!button) return;
    event.preventDefault();
    window.print();
  });
})();
