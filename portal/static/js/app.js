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

  // Seat holds: "until 10:42" becomes a live "14:59 left to pay" (the wording comes translated
  // in data-countdown, with {time} where the minutes and seconds go).
  function startCountdowns(root) {
    root.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var until = new Date(el.getAttribute("datetime")).getTime();
      var label = el.getAttribute("data-countdown");
      if (isNaN(until) || label.indexOf("{time}") < 0) return;
      function tick() {
        var left = Math.max(0, Math.round((until - Date.now()) / 1000));
        var minutes = Math.floor(left / 60), seconds = left % 60;
        el.textContent = label.replace("{time}", minutes + ":" + (seconds < 10 ? "0" : "") + seconds);
        if (left > 0) setTimeout(tick, 1000);
      }
      tick();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { localizeTimes(document); startCountdowns(document); });
  document.addEventListener("htmx:afterSwap", function (event) { localizeTimes(event.target); });
})();
