// "Import sales": polls each queued or running import once a second and moves its progress bar.
(function () {
  "use strict";
  var FINISHED = { succeeded: true, failed: true };

  function show(row, job) {
    var bar = row.querySelector("progress");
    bar.max = job.rows_total || 1;
    bar.value = job.rows_done;
    row.querySelector(".rows").textContent = job.rows_done + " / " + (job.rows_total === null ? "?" : job.rows_total);
    var status = row.querySelector(".status");
    status.textContent = job.status;
    status.className = "status status-" + job.status;
    row.dataset.status = job.status;
    row.querySelector(".created").textContent = job.transactions_created;
    row.querySelector(".updated").textContent = job.transactions_updated;
    var message = row.querySelector(".message");
    message.textContent = job.message;
    if (job.errors.length) {
      var list = document.createElement("ul");
      list.className = "problems";
      job.errors.slice(0, 20).forEach(function (problem) {
        var item = document.createElement("li");
        item.textContent = "row " + problem.row + ": " + (problem.field || "row") + ": " + problem.message;
        list.appendChild(item);
      });
      message.appendChild(list);
    }
  }

  function poll(row) {
    fetch(row.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (job) {
        show(row, job);
        if (!FINISHED[job.status]) setTimeout(function () { poll(row); }, 1000);
      })
      .catch(function () { setTimeout(function () { poll(row); }, 5000); });
  }

  document.querySelectorAll("#imports tr[data-job]").forEach(function (row) {
    if (!FINISHED[row.dataset.status]) poll(row);
  });
})();
