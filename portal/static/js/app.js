// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function readCookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|;\\s*)" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }

  // Remember the browser's time zone so the server shows times in it next time, unless the guest
  // picked a zone themselves (the server then sets portal_tz_chosen): their choice wins.
  var chosen = readCookie("portal_tz_chosen") === "1";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    zone = null;
  }
  // Zone names are cookie-safe as they are; the server reads them unencoded (not "Asia%2FTokyo").
  if (zone && !/^[A-Za-z0-9\/_+-]+$/.test(zone)) zone = null;
  if (zone && !chosen && readCookie("portal_tz") !== zone) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = "portal_tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
  }

  // Show public start times in the viewer's zone on the very first visit too (a zone the guest
  // picked is already the one the server used).
  function localizeTimes(root) {
    if (!zone || chosen) return;
    root.querySelectorAll("select[data-detect-timezone]").forEach(function (select) {
      if (select.querySelector('option[value="' + zone + '"]')) select.value = zone;
    });
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

  // Keyboard users keep their place. htmx gives focus back to a swapped control that has an
  // id; when the focused control is gone (e.g. "Remove the coupon"), focus moves to the first
  // control of the swapped region rather than falling back to <body>.
  var focusWasIn = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var target = event.detail.target;
    focusWasIn = active && active !== document.body && target && target.contains(active) ? target : null;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var region = focusWasIn;
    focusWasIn = null;
    var active = document.activeElement;
    if (!region || region !== event.detail.target || !document.body.contains(region)) return;
    if (active && active !== document.body && document.body.contains(active)) return;
    var next = region.querySelector("input:not([type=hidden]):not([disabled]), select:not([disabled]), " +
      "textarea:not([disabled]), button:not([disabled]), a[href]");
    if (!next) {
      region.setAttribute("tabindex", "-1");
      next = region;
    }
    next.focus();
  });
})();
