// A button with data-target="ID" selects the secret in field ID and copies it (shown once, on the keys and webhooks pages).
document.querySelectorAll("[data-target]").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.target);
    field.select();
    if (navigator.clipboard) { navigator.clipboard.writeText(field.value); }
    button.textContent = "Copied";
  });
});
