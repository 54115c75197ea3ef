// The Upload page's direct upload: the browser sends each file straight to S3.
//
// Python (portal/app_pages/upload.py) gives `data` = {batch, accept, maxBytes,
// forms: null | [{index, url, fields}], refused: {index: message}, blocked}.
// This module answers with two state values: `chosen` = {batch, files: [{name,
// size, type}]} when the user presses Upload, and `report` = {batch, results:
// [{index, ok, error}]} when every signed file has been sent. The batch lives
// in a registry on `globalThis`, not in this element: Streamlit unmounts the
// element when the user opens another page, but the page's JavaScript keeps
// running, so the uploads carry on and a later mount (the user came back)
// shows their progress and reports them. Only closing or reloading the tab
// stops them; the browser is asked to warn before that.
const REGISTRY = (globalThis.__docportalDirectUploads ??= new Map());
const PARALLEL = 3;

function entryFor(batch) {
  if (!REGISTRY.has(batch)) {
    REGISTRY.set(batch, { files: [], rows: [], started: false, results: null, view: null, asked: false });
  }
  return REGISTRY.get(batch);
}

function running() {
  for (const entry of REGISTRY.values()) if (entry.started && !entry.results) return true;
  return false;
}

function warnBeforeLeaving(event) {
  if (!running()) return undefined;
  event.preventDefault();
  event.returnValue = "";
  return "";
}
if (!globalThis.__docportalDirectUploadsWarn) {
  globalThis.__docportalDirectUploadsWarn = true;
  window.addEventListener("beforeunload", warnBeforeLeaving);
}

function mb(bytes) {
  return (bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0) + " MB";
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

// S3 answers a refused POST with XML: <Code> and <Message> say why.
function s3Error(xhr) {
  const text = xhr.responseText || "";
  const code = /<Code>([^<]*)<\/Code>/.exec(text);
  const message = /<Message>([^<]*)<\/Message>/.exec(text);
  const parts = [`storage answered ${xhr.status}`];
  if (code) parts.push(code[1]);
  if (message) parts.push(message[1]);
  return parts.join(": ").slice(0, 280);
}

function sendOne(entry, row, form, file, paint) {
  return new Promise((resolve) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
    body.append("file", file);  // S3 takes the file last
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.url);
    row.state = "sending";
    xhr.upload.onprogress = (e) => { row.loaded = e.loaded; paint(); };
    const end = (ok, error) => {
      row.state = ok ? "sent" : "failed";
      row.error = error || "";
      if (ok) row.loaded = file.size;
      paint();
      resolve({ index: row.index, ok, error: row.error });
    };
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? end(true) : end(false, s3Error(xhr)));
    xhr.onerror = () => end(false, "the connection to storage failed");
    xhr.onabort = () => end(false, "the upload was stopped");
    xhr.ontimeout = () => end(false, "storage did not answer in time");
    xhr.send(body);
  });
}

async function sendAll(entry, forms) {
  entry.started = true;
  const paint = () => entry.view && entry.view.paint();
  const queue = forms.filter((f) => entry.files[f.index]);
  const results = forms.filter((f) => !entry.files[f.index])
    .map((f) => ({ index: f.index, ok: false, error: "the file is no longer in this tab" }));
  const worker = async () => {
    for (let form = queue.shift(); form; form = queue.shift()) {
      results.push(await sendOne(entry, entry.rows[form.index], form, entry.files[form.index], paint));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  entry.results = results;
  paint();
  if (entry.view) entry.view.report();
}

function render(root, data, entry, setStateValue) {
  root.replaceChildren();
  const box = el("div", { class: "dp-box" });
  root.append(box);
  const signing = data.forms === null || data.forms === undefined;
  if (signing && !entry.asked) {
    const input = el("input", { type: "file", multiple: "", accept: data.accept, class: "dp-input",
                                "aria-label": "Choose files" });
    const browse = el("button", { type: "button", class: "dp-browse" }, "Browse files");
    const zone = el("div", { class: "dp-zone", "data-testid": "direct-upload-zone" },
      el("span", {}, `Drag and drop files here, or `), browse,
      el("div", { class: "dp-hint" }, `Up to ${mb(data.maxBytes)} each.`), input);
    browse.onclick = () => input.click();
    const pick = (list) => {
      entry.files = Array.from(list);
      entry.rows = entry.files.map((f, index) => ({ index, name: f.name, size: f.size, loaded: 0,
                                                     state: "chosen", error: "" }));
      render(root, data, entry, setStateValue);
    };
    input.onchange = () => pick(input.files);
    zone.ondragover = (e) => { e.preventDefault(); zone.classList.add("dp-over"); };
    zone.ondragleave = () => zone.classList.remove("dp-over");
    zone.ondrop = (e) => { e.preventDefault(); zone.classList.remove("dp-over"); pick(e.dataTransfer.files); };
    box.append(zone);
    if (entry.files.length) {
      box.append(listOf(entry, data));
      const go = el("button", { type: "button", class: "dp-go", "data-testid": "direct-upload-go" },
                    `Upload ${entry.files.length} file(s)`);
      go.onclick = () => {
        entry.asked = true;
        setStateValue("chosen", { batch: data.batch, files: entry.files.map((f) => ({
          name: f.name, size: f.size, type: f.type || "" })) });
        render(root, data, entry, setStateValue);
      };
      box.append(go);
    }
    return;
  }
  if (signing) {
    box.append(el("p", { class: "dp-note" }, data.blocked || "Checking the files…"));
    box.append(listOf(entry, data));
    if (data.blocked) {  // e.g. bad tags (fixing them goes on by itself) or too many files
      const again = el("button", { type: "button", class: "dp-browse" }, "Choose other files");
      again.onclick = () => {
        Object.assign(entry, { files: [], rows: [], asked: false });
        setStateValue("chosen", null);  // the page forgets the refused list: nothing is signed from it
        render(root, data, entry, setStateValue);
      };
      box.append(again);
    }
    return;
  }
  if (!entry.files.length && data.forms.length && !entry.started) {
    box.append(el("p", { class: "dp-note" }, "The files of this upload are no longer open in this tab."));
    entry.results = data.forms.map((f) => ({ index: f.index, ok: false,
                                             error: "the file is no longer in this tab" }));
    entry.started = true;
    return;
  }
  const done = entry.results !== null;
  box.append(el("p", { class: "dp-note", "data-testid": "direct-upload-note" }, done
    ? "Every file has been sent; checking what arrived…"
    : "Uploading straight to storage. Keep this tab open until the uploads finish: other pages of the "
      + "portal are fine, closing or reloading the tab stops them."));
  box.append(listOf(entry, data));
}

function listOf(entry, data) {
  const list = el("ul", { class: "dp-list", "data-testid": "direct-upload-list" });
  for (const row of entry.rows) {
    const refused = data.refused && data.refused[row.index];
    const fraction = row.size ? Math.min(1, row.loaded / row.size) : (row.state === "sent" ? 1 : 0);
    const status = refused ? "refused"
      : row.state === "sent" ? "sent" : row.state === "failed" ? "failed"
      : row.state === "sending" ? `${Math.floor(fraction * 100)}%` : data.forms ? "waiting" : "";
    const item = el("li", { class: `dp-row dp-${refused ? "refused" : row.state}` },
      el("span", { class: "dp-name" }, row.name),
      el("span", { class: "dp-size" }, mb(row.size)),
      el("progress", { max: "1", value: String(fraction) }),
      el("span", { class: "dp-status", "data-testid": "direct-upload-status" }, status));
    list.append(item);
  }
  return list;
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector(".dp-root");
  if (!root) {
    root = el("div", { class: "dp-root" });
    parentElement.append(root);
  }
  const entry = entryFor(data.batch);
  let pending = false;
  const view = {
    paint() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; render(root, data, entry, setStateValue); });
    },
    report() {
      if (entry.results) setStateValue("report", { batch: data.batch, results: entry.results });
    },
  };
  entry.view = view;
  render(root, data, entry, setStateValue);
  if (data.forms && !entry.started) sendAll(entry, data.forms);
  else if (entry.results) view.report();
  return () => { if (entry.view === view) entry.view = null; };
}
