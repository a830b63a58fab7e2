// Refresh the queue lists every 5 s (the rest of the console is plain forms).
(function () {
  var box = document.getElementById("queues");
  if (!box) return;
  setInterval(function () {
    fetch(box.dataset.refresh, { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) { window.location.assign("/console/login"); return null; }
      return r.ok ? r.text() : null;
    }).then(function (html) { if (html !== null) box.innerHTML = html; }).catch(function () {});
  }, 5000);
})();
