// perfxl serve: the one script. Forms work without it; with it, a drop zone sends each file on
// its own request with a progress bar, then follows its check until the result is in.
(function () {
  "use strict";

  var STATUS = { ok: "通过", errors: "有错误", unusable: "无法使用" };

  function text(el, value) { el.textContent = value; }

  function describe(u) {
    if (u.state === "queued" || u.state === "checking") return "正在审核…";
    if (u.note) return "未计入：" + u.note;
    if (u.status === "unusable") return "无法使用：" + (u.reason || "无法读取");
    var c = (u.check && u.check.counts) || {};
    return (STATUS[u.status] || u.status) + "（错误 " + (c["错误"] || 0) + "，警告 " + (c["警告"] || 0) + "，提示 " + (c["提示"] || 0) + "）";
  }

  function follow(zone, id, cell, link) {
    var url = zone.getAttribute("data-poll").replace("{id}", id);
    var tries = 0;
    function tick() {
      tries += 1;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var u = data.upload || data;
          text(cell, describe(u));
          if (u.state === "done" || u.state === "failed") {
            link.href = zone.getAttribute("data-view").replace("{id}", id);
            link.hidden = false;
            zone.dispatchEvent(new CustomEvent("perfxl:checked"));
          } else if (tries < 600) {
            setTimeout(tick, 1000);
          }
        })
        .catch(function () { if (tries < 600) setTimeout(tick, 2000); });
    }
    tick();
  }

  function send(zone, form, file, list) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    var bar = document.createElement("progress");
    var cell = document.createElement("span");
    var link = document.createElement("a");
    text(name, file.name);
    bar.max = 100; bar.value = 0;
    text(cell, "等待上传…");
    text(link, "查看");
    link.hidden = true;
    cell.appendChild(document.createTextNode(" "));
    var right = document.createElement("span");
    right.appendChild(cell); right.appendChild(document.createTextNode(" ")); right.appendChild(link);
    li.appendChild(name); li.appendChild(bar); li.appendChild(right);
    list.appendChild(li);

    var data = new FormData();
    data.append("csrf", form.querySelector("input[name=csrf]").value);
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); text(cell, "上传中 " + bar.value + "%"); }
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 200 && body.uploads && body.uploads.length) {
        bar.value = 100;
        text(cell, "已上传，正在审核…");
        follow(zone, body.uploads[0].id, cell, link);
      } else {
        text(cell, "上传失败：" + (body.error || ("服务器返回 " + xhr.status)));
      }
    };
    xhr.onerror = function () { text(cell, "上传失败：网络中断"); };
    xhr.send(data);
  }

  function setup(zone) {
    var form = zone.closest("form");
    var input = form.querySelector("input[type=file]");
    var list = document.getElementById(zone.getAttribute("data-list"));
    var pending = 0;
    function take(files) {
      for (var i = 0; i < files.length; i++) { pending += 1; send(zone, form, files[i], list); }
    }
    zone.addEventListener("perfxl:checked", function () {
      pending -= 1;
      if (pending === 0 && zone.hasAttribute("data-reload")) { setTimeout(function () { location.reload(); }, 800); }
    });
    ["dragenter", "dragover"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) { take(e.dataTransfer.files); });
    input.addEventListener("change", function () { take(input.files); input.value = ""; });
    form.addEventListener("submit", function (e) { e.preventDefault(); take(input.files); input.value = ""; });
  }

  document.querySelectorAll("[data-drop]").forEach(setup);

  // A select that changes the year reloads the page for that year.
  document.querySelectorAll("select[data-go]").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
})();
