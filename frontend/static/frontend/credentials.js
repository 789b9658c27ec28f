/* Reveal / hide / copy a database's credentials without leaving the page.
 * Without JavaScript the form posts normally and the page comes back with the credentials shown.
 */
(function () {
  "use strict";
  var form = document.getElementById("reveal-form");
  var panel = document.getElementById("credentials");
  if (!form || !panel) return;
  var button = document.getElementById("reveal-button");
  var password = document.getElementById("credential-password");
  var command = document.getElementById("credential-cli");
  var status = document.getElementById("copy-status");
  var ca = document.getElementById("credential-ca");
  var caField = document.getElementById("credential-ca-field");

  form.addEventListener("submit", function (submitted) {
    submitted.preventDefault();
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: {"Accept": "application/json"},
      credentials: "same-origin",
    }).then(function (response) {
      if (response.ok) return response.json();
      // A refusal carries its reason (e.g. too many reveals: when to retry) in `detail`.
      return response.json().catch(function () { return {}; }).then(function (body) {
        throw new Error(body.detail || "the server answered " + response.status);
      });
    }).then(function (credentials) {
      password.value = credentials.password;
      command.value = credentials.redis_cli;
      ca.value = credentials.ca_certificate || "";
      caField.hidden = !credentials.ca_certificate;
      status.textContent = "";
      panel.hidden = false;
      button.setAttribute("aria-expanded", "true");
      password.focus();
    }).catch(function (error) {
      status.textContent = "Could not reveal the credentials: " + error.message;
      panel.hidden = false;
    }).finally(function () { button.disabled = false; });
  });

  document.getElementById("hide-credentials").addEventListener("click", function () {
    password.value = "";
    command.value = "";
    ca.value = "";
    caField.hidden = true;
    status.textContent = "";
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  });

  panel.querySelectorAll("button[data-copy]").forEach(function (copy) {
    copy.addEventListener("click", function () {
      var input = document.getElementById(copy.dataset.copy);
      var done = function () { status.textContent = "Copied " + input.labels[0].textContent + "."; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { selectAndCopy(input, done); });
      } else {
        selectAndCopy(input, done);
      }
    });
  });

  function selectAndCopy(input, done) {
    input.focus();
    input.select();
    if (document.execCommand("copy")) done();
    else status.textContent = "Press Ctrl+C to copy the selected text.";
  }
})();
