// QR login on the sign-in page (autocrm/accounts/qr_views.py): ask for a one-time code,
// show it, poll its status every two seconds, and follow the redirect once a phone approved.
// A code lives two minutes; an expired one is replaced a few times, then on request only.
(function () {
  "use strict";
  var box = document.querySelector("[data-qr-login]");
  if (!box) { return; }
  var image = box.querySelector("[data-qr-image]");
  var showButton = box.querySelector("[data-qr-show]");
  var statusLine = box.querySelector("[data-qr-status]");
  var POLL_MS = 2000;
  var AUTO_RENEWALS = 3;
  var renewals = 0;
  var timer = null;
  var current = null;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function post(url, fields) {
    var body = new URLSearchParams(fields || {});
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { data.httpStatus = response.status; return data; });
    });
  }

  function say(text) { statusLine.textContent = text; }

  function stop() { if (timer) { window.clearTimeout(timer); timer = null; } }

  function offerNewCode(text) {
    stop();
    current = null;
    image.hidden = true;
    showButton.hidden = false;
    say(text);
  }

  function poll() {
    if (!current) { return; }
    var left = Math.max(0, Math.round((current.expiresAt - Date.now()) / 1000));
    post(current.statusUrl).then(function (data) {
      if (data.status === "signed_in") {
        stop();
        say("Approved. Signing you in…");
        window.location.assign(data.redirect);
        return;
      }
      if (data.status === "approved") {
        say("Approved on your phone. Signing you in…");
      } else if (data.status === "pending") {
        say("Waiting for your phone… the code expires in " + left + " s.");
      } else if (data.status === "denied") {
        offerNewCode("The sign-in was denied on the phone.");
        return;
      } else if (data.status === "expired" && renewals < AUTO_RENEWALS) {
        renewals += 1;
        start();
        return;
      } else if (data.status === "rate_limited") {
        say("Too many attempts; waiting a moment.");
      } else {
        offerNewCode("This code can no longer be used.");
        return;
      }
      timer = window.setTimeout(poll, POLL_MS);
    }).catch(function () {
      timer = window.setTimeout(poll, POLL_MS * 2);
    });
  }

  function start() {
    stop();
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) {}
    post(box.getAttribute("data-new-url"), { time_zone: zone, next: box.getAttribute("data-next") || "" })
      .then(function (data) {
        if (data.status === "signed_in") { window.location.assign(data.redirect); return; }
        if (data.status !== "pending") { offerNewCode(data.detail || "No code right now; try again soon."); return; }
        current = { statusUrl: data.status_url, expiresAt: Date.now() + data.expires_in * 1000 };
        image.src = data.qr;
        image.hidden = false;
        showButton.hidden = true;
        say("Waiting for your phone… the code expires in " + data.expires_in + " s.");
        timer = window.setTimeout(poll, POLL_MS);
      })
      .catch(function () { offerNewCode("No code right now; try again soon."); });
  }

  showButton.addEventListener("click", function () { renewals = 0; start(); });
  start();
})();
