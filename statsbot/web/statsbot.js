/*! statsbot.js: fills elements such as <span data-statsbot="scholar/citations">…</span> with the
 * numbers of statsbot's stats.json. No dependencies. Load it with (the last line of `statsbot badges --format js`):
 *
 *   <script src="/assets/js/statsbot.js" data-stats="https://raw.githubusercontent.com/OWNER/REPO/google-scholar-stats/stats.json" defer></script>
 *
 * data-statsbot="..." (parts separated by "/"):
 *   citations            the page's headline citation count (stats.json sources.citations.all)
 *   updated              the day the data was written (generated_at, YYYY-MM-DD)
 *   SOURCE/METRIC        the source's total (stats.json totals, e.g. github/stars), else the source's
 *                        only item (scholar/citations with one profile), else its item "all" (group/citations)
 *   SOURCE/ITEM/METRIC   one item; ITEM may hold "/" (github/OWNER/REPO/stars, huggingface/OWNER/MODEL/likes,
 *                        scholar/ID/h-index); an item is matched exactly, else case-insensitively when unique
 *   METRIC is its name in stats.json; "-" may stand for "_" (h-index, i10-index, downloads-all-time).
 * data-statsbot-format="comma" (the default: 1,234), "short" (1.2k, as shields.io and the star badges
 * print counts) or "plain" (1234).
 *
 * A filled element gets data-statsbot-status="ok" or "stale" (its item's status) when stats.json has one.
 * Whatever goes wrong (no file, a network error, bad JSON, a missing item or metric), an element keeps
 * the text it has, and the script throws nothing.
 */
(function () {
  "use strict";

  var PREFIXES = "kMGTPEZY";

  // A count as shields.io prints one (statsbot.badges.format_count): 950, 1.2k, 12k, 999k, 1M.
  function shortCount(n) {
    if (n < 0) return "-" + shortCount(-n);
    for (var power = PREFIXES.length; power > 0; power--) {
      var limit = Math.pow(1000, power);
      if (n < limit) continue;
      var scaled = n / limit;
      if (scaled < 10) {
        var oneDecimal = scaled.toFixed(1);
        if (oneDecimal.slice(-2) !== ".0") return oneDecimal + PREFIXES.charAt(power - 1);
      }
      var rounded = Math.round(scaled);
      if (rounded < 1000 || power === PREFIXES.length) return rounded + PREFIXES.charAt(power - 1);
      return "1" + PREFIXES.charAt(power);
    }
    return String(n);
  }

  function commaCount(n) {
    var digits = String(Math.abs(n));
    var out = "";
    while (digits.length > 3) {
      out = "," + digits.slice(-3) + out;
      digits = digits.slice(0, -3);
    }
    return (n < 0 ? "-" : "") + digits + out;
  }

  function format(n, how) {
    if (how === "short") return shortCount(n);
    if (how === "plain") return String(n);
    return commaCount(n);
  }

  function get(object, key) {
    if (object === null || typeof object !== "object" || Array.isArray(object)) return undefined;
    return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
  }

  function metric(metrics, name) {
    var value = get(metrics, name);
    if (value === undefined) value = get(metrics, name.replace(/-/g, "_"));
    return typeof value === "number" && isFinite(value) ? value : undefined;
  }

  function item(items, name) {
    var exact = get(items, name);
    if (exact !== undefined || items === null || typeof items !== "object") return exact;
    var found, count = 0, lower = name.toLowerCase();
    for (var key in items) {
      if (Object.prototype.hasOwnProperty.call(items, key) && key.toLowerCase() === lower) {
        found = items[key];
        count++;
      }
    }
    return count === 1 ? found : undefined;
  }

  function only(items) {
    var keys = items !== null && typeof items === "object" && !Array.isArray(items) ? Object.keys(items) : [];
    return keys.length === 1 ? items[keys[0]] : get(items, "all");
  }

  // {value, status} for one data-statsbot key, or null.
  function lookup(stats, key) {
    var sources = get(stats, "sources");
    var parts = key.split("/");
    var entry;
    if (parts.length === 1) {
      if (parts[0] === "updated") {
        var when = get(stats, "generated_at");
        return typeof when === "string" && /^\d{4}-\d{2}-\d{2}/.test(when) ? { text: when.slice(0, 10) } : null;
      }
      entry = get(get(sources, "citations"), "all");
    } else if (parts.length === 2) {
      var total = metric(get(get(stats, "totals"), parts[0]), parts[1]);
      if (total !== undefined) return { value: total };
      entry = only(get(sources, parts[0]));
    } else {
      entry = item(get(sources, parts[0]), parts.slice(1, -1).join("/"));
    }
    var value = metric(get(entry, "metrics"), parts[parts.length - 1]);
    if (value === undefined) return null;
    var status = get(entry, "status");
    return { value: value, status: typeof status === "string" ? status : null };
  }

  function fill(stats) {
    if (stats === null || typeof stats !== "object") return;
    var elements = document.querySelectorAll("[data-statsbot]");
    for (var i = 0; i < elements.length; i++) {
      try {
        var element = elements[i];
        var key = element.getAttribute("data-statsbot");
        if (typeof key !== "string" || !key) continue;
        var found = lookup(stats, key.trim());
        if (!found) continue;
        element.textContent = found.text !== undefined ? found.text : format(found.value, element.getAttribute("data-statsbot-format"));
        if (found.status && typeof element.setAttribute === "function") element.setAttribute("data-statsbot-status", found.status);
      } catch (ignored) {
        // one odd element never stops the others
      }
    }
  }

  function statsUrl() {
    var script = document.currentScript;
    if (!script && typeof document.querySelector === "function") script = document.querySelector("script[data-stats]");
    return script && typeof script.getAttribute === "function" ? script.getAttribute("data-stats") : null;
  }

  function start(url) {
    try {
      // "no-cache": the browser asks again (a cheap 304 when unchanged) instead of using a days-old copy.
      fetch(url, { cache: "no-cache" })
        .then(function (response) {
          return response && response.ok ? response.json() : null;
        })
        .then(fill)
        .catch(function () {});
    } catch (ignored) {
      // no fetch in this browser: the page keeps its text
    }
  }

  try {
    var url = statsUrl();
    if (!url || typeof fetch !== "function") return;
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () {
        start(url);
      });
    } else {
      start(url);
    }
  } catch (ignored) {
    // never break the page
  }
})();
