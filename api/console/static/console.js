// The console's only script: live queue lists, "this case changed" on the case page, and
// keyboard shortcuts. Everything works without it (plain links and forms).
(function () {
  "use strict";
  var POLL_MS = 5000;

  function poll(url, onBody, asJson) {
    setInterval(function () {
      fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (r.status === 401) { window.location.assign("/console/login"); return null; }
        if (!r.ok) return null;
        return asJson ? r.json() : r.text();
      }).then(function (body) { if (body !== null) onBody(body); }).catch(function () {});
    }, POLL_MS);
  }

  // Queue page: refetch the lists (a case someone else took or decided disappears).
  var queues = document.getElementById("queues");
  if (queues) {
    poll(queues.dataset.refresh, function (html) {
      var focused = document.activeElement && document.activeElement.getAttribute("href");
      queues.innerHTML = html;
      if (focused) {
        var again = queues.querySelector('a[href="' + focused + '"]');
        if (again) again.focus();
      }
    }, false);
  }

  // Case page: tell the person when the case or its ticket changed (never reload under their typing).
  var facts = document.getElementById("case-facts");
  if (facts) {
    poll(facts.dataset.state, function (state) {
      var changed = state.status !== facts.dataset.status ||
        (state.ticket_status || "") !== facts.dataset.ticketStatus ||
        (state.ticket_assignee || "") !== facts.dataset.ticketAssignee;
      if (changed) document.getElementById("case-changed").hidden = false;
    }, true);
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    var links = Array.prototype.slice.call(document.querySelectorAll("a.case-link"));
    var at = links.indexOf(document.activeElement);
    var radio = { c: "d-confirm", e: "d-escalate", n: "d-not" }[event.key];
    if (event.key === "j" || event.key === "k") {
      if (!links.length) return;
      var next = event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
      links[next].focus();
      event.preventDefault();
    } else if (event.key === "/") {
      var filter = document.getElementById("f-channel");
      if (filter) { filter.focus(); event.preventDefault(); }
    } else if (event.key === "q" && facts) {
      window.location.assign("/console");
    } else if (radio && document.getElementById(radio)) {
      document.getElementById(radio).checked = true;
      document.getElementById("decision-reason").focus();
      event.preventDefault();
    }
  });
})();
