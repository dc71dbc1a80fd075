// The editor of the triage workbench: line numbers, a check on every change (debounced),
// problems at their line and column, and save. Plain JavaScript, no network but this server.
"use strict";
(function () {
  const source = document.getElementById("source");
  if (!source) { return; }
  const gutter = document.getElementById("gutter");
  const status = document.getElementById("status");
  const list = document.getElementById("problems");
  const file = source.closest(".editor").dataset.file;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let timer = null;
  let bad = new Set();

  function numbers() {
    const count = source.value.split("\n").length;
    const lines = [];
    for (let i = 1; i <= count; i++) { lines.push(bad.has(i) ? "\u25B6" + i : String(i)); }
    gutter.textContent = lines.join("\n");
    gutter.scrollTop = source.scrollTop;
  }

  function goTo(line, column) {
    const rows = source.value.split("\n");
    let offset = 0;
    for (let i = 0; i < line - 1 && i < rows.length; i++) { offset += rows[i].length + 1; }
    offset += Math.max(0, (column || 1) - 1);
    source.focus();
    source.setSelectionRange(offset, offset + 1);
    const height = source.scrollHeight / Math.max(rows.length, 1);
    source.scrollTop = Math.max(0, (line - 5) * height);
  }

  function show(result) {
    list.textContent = "";
    bad = new Set();
    for (const p of result.problems) {
      const here = p.path === file;
      if (here && p.severity === "error") { bad.add(p.line); }
      const item = document.createElement("li");
      item.className = p.severity + (here ? " here" : "");
      item.dataset.line = p.line;
      item.dataset.column = p.column;
      const where = document.createElement("a");
      where.className = "where";
      where.textContent = p.file + ":" + p.line + ":" + p.column;
      if (here) {
        where.href = "#";
        where.addEventListener("click", (e) => { e.preventDefault(); goTo(p.line, p.column); });
      } else if (p.path) {
        where.href = "/edit?file=" + encodeURIComponent(p.path) + "&line=" + p.line;
      }
      item.appendChild(where);
      item.appendChild(document.createTextNode(" " + p.severity + "[" + p.code + "]: " + p.message));
      if (p.hint) {
        const hint = document.createElement("div");
        hint.className = "hint";
        hint.textContent = "提示：" + p.hint;
        item.appendChild(hint);
      }
      list.appendChild(item);
    }
    numbers();
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {error: String(e)}; }
    return [response.status, data];
  }

  async function check() {
    status.textContent = "检查中…";
    const [code, result] = await post("/v1/check", {files: {[file]: source.value}});
    if (code !== 200) { status.textContent = "检查失败：" + (result.error || code); return; }
    show(result);
    const errors = result.problems.filter((p) => p.severity === "error").length;
    status.textContent = result.ok ? "可以加载（" + result.rules + " 条规则）" : errors + " 个错误";
    status.className = "status " + (result.ok ? "ok" : "bad");
  }

  source.addEventListener("input", () => {
    numbers();
    status.textContent = "已修改";
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
  source.addEventListener("scroll", () => { gutter.scrollTop = source.scrollTop; });
  const save = document.getElementById("save");
  if (save) {
    save.addEventListener("click", async () => {
      const author = document.getElementById("author").value;
      const [code, result] = await post("/edit/save", {file: file, text: source.value, author: author});
      if (code === 200) {
        status.textContent = "已保存（尚未发布）";
        status.className = "status ok";
        show(result);
      } else if (code === 422) {
        status.textContent = "没有保存：策略加载不了";
        status.className = "status bad";
        show(result);
      } else {
        status.textContent = "没有保存：" + (result.error || code);
        status.className = "status bad";
      }
    });
  }
  numbers();
  const line = parseInt(source.closest(".editor").dataset.line, 10);
  if (line > 0) { goTo(line, 1); }
})();
