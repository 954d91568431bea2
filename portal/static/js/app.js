// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Remember the browser's time zone so the server shows times in it next time.
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    zone = null;
  }
  if (zone && document.cookie.indexOf("portal_tz=" + encodeURIComponent(zone)) === -1) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = "portal_tz=" + encodeURIComponent(zone) + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
  }

  // Show public start times in the viewer's zone on the very first visit too.
  function localizeTimes(root) {
    if (!zone) return;
    var lang = document.documentElement.lang || undefined;
    root.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) return;
      el.textContent = new Intl.DateTimeFormat(lang, {
        dateStyle: "full", timeStyle: "short", timeZone: zone
      }).format(when) + " (" + zone.replace(/_/g, " ") + ")";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { localizeTimes(document); });
  document.addEventListener("htmx:afterSwap", function (event) { localizeTimes(event.target); });
})();
