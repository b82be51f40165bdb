// The demo page's one widget tag, its address taken from the page's own URL (/webchat/?address=IG…).
// A file rather than an inline script: the page's Content-Security-Policy runs no inline script.
(function () {
  var tag = document.createElement("script");
  tag.src = "/webchat/widget.js";
  tag.dataset.addressSid = new URLSearchParams(location.search).get("address") || "IG00000000000000000000000000000000";
  document.body.appendChild(tag);
})();
