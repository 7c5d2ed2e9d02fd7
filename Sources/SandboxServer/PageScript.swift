/// The page's script: reads `/api/v1`, listens to `/api/v1/events`, and words everything for people who
/// have never heard of containers.
enum PageScript {
    static let text = #"""
    "use strict";
    const $ = (s, el = document) => el.querySelector(s);
    const state = { instances: [], checkouts: [], previews: [], ops: {}, revealed: {}, snapshots: {}, errors: {} };

    const STEP = {
      EnsureBaseImage: "Preparing the base system", Build: "Preparing the software",
      PullImage: "Downloading the software", PullGolden: "Downloading fresh data",
      InitGolden: "Creating fresh data", CopyGoldenData: "Copying fresh data",
      SaveSnapshot: "Saving a snapshot first", UpgradeData: "Moving the data to the new version",
      StageData: "Preparing the data", SwitchData: "Putting the data in place", DeleteReplacedData: "Removing the old data",
      DeleteData: "Removing the data", RemoveContainer: "Stopping", RemoveContainers: "Stopping",
      StartContainer: "Starting", CreateContainer: "Starting", WaitReady: "Waiting until it accepts connections",
      SetCredentials: "Setting this copy's passwords", RunUpdate: "Applying an update", FillLeasePool: "Making copies to lend",
      Notice: "Note", Nothing: "Nothing to do",
      FinishDeletion: "Finishing an interrupted removal", SetAside: "Setting a damaged record aside",
      FinishSwitch: "Finishing an interrupted change", Discard: "Tidying up",
      DiscardStaged: "Undoing the prepared data", DeleteSnapshot: "Deleting the snapshot", AbandonUpgrade: "Going back to the old version",
      StopContainers: "Pausing for a consistent copy", WriteState: "Recording this copy", WriteEnv: "Writing the connection settings",
      EnsureNetwork: "Connecting the services", RemoveNetwork: "Disconnecting the services", WriteServiceEnv: "Preparing the settings",
      RestartContainer: "Restarting", RetireContainer: "Setting the old version aside", RestoreContainer: "Bringing the old version back",
    };
    const KIND = { up: "Updating", down: "Stopping", reset: "Resetting to fresh data", destroy: "Removing", restart: "Restarting",
                   "snapshot-save": "Saving a snapshot", "snapshot-restore": "Restoring a snapshot", "snapshot-delete": "Deleting a snapshot" };
    const STATE = { running: ["Running", "ok"], exited: ["Stopped (crashed or halted)", "bad"], created: ["Starting", "busy"],
                    restarting: ["Restarting", "busy"], removing: ["Stopping", "busy"], paused: ["Paused", "idle"],
                    dead: ["Broken: reset or update it", "bad"], "data-missing": ["Its data is gone: reset it", "bad"],
                    stopped: ["Stopped", "idle"], absent: ["Not created yet", "idle"] };

    async function api(path, options = {}) {
      const headers = { Accept: "application/json" };
      if (options.body) headers["Content-Type"] = "application/json";
      let response;
      try { response = await fetch(path, { credentials: "same-origin", ...options, headers }); }
      catch (e) { $("#offline").hidden = false; throw e; }
      $("#offline").hidden = true;
      const body = await response.json().catch(() => ({}));
      if (response.status === 401) { $("#signin").hidden = false; $("#create").hidden = true; throw Object.assign(new Error(body.message), { body }); }
      if (!response.ok) throw Object.assign(new Error(body.message || response.statusText), { body });
      return body;
    }

    const key = (i) => `${i.checkout}/${i.instance}`;
    const query = (i, extra = "") => `?checkout=${encodeURIComponent(i.checkout)}${i.sandbox ? "&sandbox=" + encodeURIComponent(i.sandbox) : ""}${extra}`;
    const base = (i) => `/api/v1/instances/${encodeURIComponent(i.instance)}`;

    async function refresh() {
      try {
        const [{ checkouts }, { instances }, { operations }, { previews }] = await Promise.all([
          api("/api/v1/checkouts"), api("/api/v1/instances"), api("/api/v1/operations"), api("/api/v1/previews")]);
        state.checkouts = checkouts; state.instances = instances; state.previews = previews;
        for (const op of operations) state.ops[op.id] = op;
        $("#signin").hidden = true; $("#create").hidden = false;
        render();
        return true;
      } catch (e) { return false; /* shown by api() */ }
    }

    function running(i) {
      return Object.values(state.ops).find((op) => op.checkout === i.checkout && op.instance === i.instance
        && (op.state === "running" || op.state === "queued"));
    }
    function lastOp(i) {
      return Object.values(state.ops).filter((op) => op.checkout === i.checkout && op.instance === i.instance)
        .sort((a, b) => (a.created < b.created ? 1 : -1))[0];
    }

    const checkoutOf = (i) => state.checkouts.find((c) => c.id === i.checkout);

    function summary(i) {
      if (running(i)) return ["Working…", "busy"];
      const states = i.services.map((s) => s.state);
      if (states.every((s) => s === "running")) return ["Running", "ok"];
      if (states.some((s) => s === "exited" || s === "dead")) return ["Needs attention", "bad"];
      if (states.some((s) => s === "running")) return ["Partly running", "busy"];
      if (states.every((s) => s === "absent")) return ["Not created yet", "idle"];
      return ["Stopped", "idle"];
    }

    function el(tag, attrs = {}, ...children) {
      const node = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs)) {
        if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
      }
      for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) node.append(c.nodeType ? c : String(c));
      return node;
    }

    function copyButton(text) {
      return el("button", { class: "small", type: "button", onclick: async (e) => {
        try { await navigator.clipboard.writeText(text); e.target.textContent = "Copied"; }
        catch { e.target.textContent = "Select and copy"; }
        setTimeout(() => (e.target.textContent = "Copy"), 1500);
      } }, "Copy");
    }

    function serviceRow(i, s) {
      const [label, tone] = STATE[s.state] || [s.state, "idle"];
      const revealed = state.revealed[key(i)];
      // The forms come from the image recipe's `connect` (the page knows no engine); the URL alone otherwise.
      const shown = (revealed && revealed[s.service]) || s;
      const forms = shown.connections && shown.connections.length ? shown.connections.map((c) => [c.name, c.value])
        : shown.url ? [["Address", shown.url]] : [];
      const kind = (s.image || "").split("/").pop().split(":")[0];
      const web = isWeb(s);
      return el("div", { class: "service", "data-service": s.service },
        el("div", { class: "service-head" }, el("strong", {}, s.service), kind ? el("span", { class: "muted" }, ` ${kind}`) : null,
          el("span", { class: `pill ${tone}` }, label),
          web && s.state === "running" ? el("button", { class: "small", "data-action": "restart", disabled: !!running(i),
                                                        onclick: () => restart(i, s) }, "Restart") : null),
        forms.length && s.state === "running" ? el("dl", { class: "forms" }, forms.map(([name, value]) =>
          [el("dt", {}, name), el("dd", {}, el("code", {}, value), copyButton(value))])) : null,
        s.leases ? el("p", { class: "muted", "data-leases": s.service }, leaseLine(s.leases)) : null);
    }

    // What a lending service has lent to tests (docs/testing.md): how many copies, and how long the oldest has been out.
    function leaseLine(l) {
      const age = l.oldest ? Math.max(0, Math.round((Date.now() - Date.parse(l.oldest)) / 60000)) : null;
      const lent = l.lent ? `${l.lent} cop${l.lent === 1 ? "y" : "ies"} lent to tests, the oldest for ${age < 1 ? "under a minute" : age + " min"}`
        : "no copies lent to tests";
      return `${lent}; ${l.ready} ready`;
    }

    // A web service: its address is a page to open, not a connection string.
    const isWeb = (s) => /^https?:\/\//.test(s.url || "");

    // The links people follow: every running web service of a copy, above the connection strings.
    function openLinks(i) {
      const web = i.services.filter((s) => isWeb(s) && s.state === "running");
      return web.length ? el("div", { class: "open" }, web.map((s) => el("a", { class: "button primary", href: s.url, target: "_blank",
        rel: "noopener noreferrer", "data-open": s.service }, web.length > 1 ? `Open ${s.service}` : "Open"))) : null;
    }

    async function restart(i, s) {
      try { await api(`${base(i)}/services/${encodeURIComponent(s.service)}/restart${query(i)}`, { method: "POST" }); refresh(); }
      catch (e) { alert(e.message); }
    }

    function progress(op) {
      const steps = new Map();
      for (const e of op.events || []) {
        if (!e.action) continue;
        const name = e.action.split(" ")[0], target = (e.target || "").replace(/^(service|image|instance):/, "");
        const label = `${STEP[name] || name}${e.target && e.target.startsWith("service:") ? " — " + target : ""}`;
        const id = `${e.target}|${e.action}`;
        const row = steps.get(id) || { label, status: "…" };
        if (e.event === "done") row.status = `✓ ${e.seconds !== undefined ? e.seconds.toFixed(1) + " s" : ""}`;
        if (e.event === "failed") row.status = "✗ failed";
        steps.set(id, row);
      }
      return el("ol", { class: "steps" }, [...steps.values()].map((r) => el("li", {}, el("span", {}, r.label), el("span", { class: "muted" }, r.status))));
    }

    function failure(op) {
      const e = op.error || {};
      return el("div", { class: "failure" },
        el("p", {}, el("strong", {}, `${KIND[op.kind] || op.kind} failed: `), e.message || "unknown error"),
        e.fix ? el("p", {}, el("strong", {}, "What to do: "), e.fix) : null,
        op.messages && op.messages.length ? el("pre", {}, op.messages.slice(-15).join("\n")) : null);
    }

    function card(i) {
      const [label, tone] = summary(i), busy = running(i), last = lastOp(i);
      const allRunning = i.services.every((s) => s.state === "running");
      const act = (kind, text, cls = "") => el("button", { class: cls, "data-action": kind, disabled: !!busy, onclick: () => action(i, kind) }, text);
      return el("section", { class: "card", "data-instance": i.instance, "data-checkout": i.checkout },
        el("div", { class: "card-head" },
          el("div", {}, el("h3", {}, i.instance), el("span", { class: "muted" }, `a copy of ${i.sandbox}`),
            i.commit ? el("span", { class: "muted", "data-commit": i.commit }, ` · runs commit ${short(i.commit)}`,
              checkoutOf(i) && checkoutOf(i).follow && checkoutOf(i).follow.commit && checkoutOf(i).follow.commit !== i.commit
                ? " (older than the checkout: Update brings it up to date)" : "") : null),
          el("span", { class: `badge ${tone}`, "data-state": tone }, label)),
        openLinks(i),
        // A lease server (SERVICE.leases) is shown by what its service has lent, not as a row of its own.
        i.services.filter((s) => !s.service.endsWith(".leases")).map((s) => serviceRow(i, s)),
        el("div", { class: "actions" },
          act("up", allRunning ? "Update" : "Start", "primary"),
          allRunning ? act("down", "Stop") : null,
          act("reset", "Reset to fresh data", "danger"),
          act("save", "Save a snapshot"),
          act("restore", "Restore a snapshot…"),
          i.services.some((s) => s.state === "running")
            ? el("button", { "data-action": "reveal", onclick: () => reveal(i) }, state.revealed[key(i)] ? "Hide passwords" : "Show passwords") : null),
        busy ? el("div", { class: "progress" }, el("p", {}, el("strong", {},
          `${KIND[busy.kind] || busy.kind}${busy.state === "queued" ? " (waiting for its turn)" : "…"}`)), progress(busy)) : null,
        !busy && last && last.state === "failed" ? failure(last) : null);
    }

    const short = (sha) => (sha ? sha.slice(0, 8) : "");
    const FOLLOW = { idle: "", checking: "Checking for new commits…", updating: "Updating to the newest commit…",
                     "up-to-date": "Up to date", updated: "Updated", refused: "Not updated", failed: "Update failed" };

    function checkoutHead(c) {
      const f = c.follow || {}, busy = f.state === "checking" || f.state === "updating";
      const where = f.branch ? el("span", {}, "Branch ", el("strong", {}, f.branch), " at ", el("code", {}, short(f.commit)))
                             : el("span", { class: "muted" }, "Not following a branch (no git branch checked out)");
      const behind = f.behind > 0 ? el("span", { class: "pill busy", "data-behind": f.behind },
        `${f.behind} new commit${f.behind === 1 ? "" : "s"} on ${f.upstream}`)
                   : f.upstreamCommit ? el("span", { class: "pill ok" }, `up to date with ${f.upstream}`) : null;
      return el("div", { class: "checkout-head", "data-checkout": c.id, "data-follow": f.state || "idle" },
        el("div", { class: "checkout-line" }, where, behind,
          f.branch ? el("button", { "data-action": "follow", disabled: busy, onclick: () => follow(c) }, busy ? "Updating…" : "Update now") : null),
        f.state && FOLLOW[f.state] ? el("p", { class: "muted" }, FOLLOW[f.state], f.result ? ` — ${f.result}` : "") : null,
        (f.state === "refused" || f.state === "failed") && f.reason
          ? el("div", { class: "failure" }, el("p", {}, f.reason), f.fix ? el("p", {}, el("strong", {}, "What to do: "), f.fix) : null) : null);
    }

    async function follow(c) {
      try { await api(`/api/v1/checkouts/${encodeURIComponent(c.id)}/update`, { method: "POST" }); refresh(); }
      catch (e) { alert(e.message); }
    }

    function render() {
      const root = $("#checkouts");
      root.replaceChildren(...state.checkouts.map((c) => {
        const mine = state.instances.filter((i) => i.checkout === c.id);
        return el("div", { class: "checkout" },
          state.checkouts.length > 1 ? el("h2", {}, c.id, el("span", { class: "muted" }, ` ${c.path}`)) : null,
          checkoutHead(c),
          mine.length ? mine.map(card) : el("p", { class: "muted" }, "No copies yet. Make one below."));
      }));
      renderPreviews();
    }

    // Previews of branches (serve --previews): one line each, newest push first, with their links and buttons.
    const PREVIEW = { creating: ["Being made", "busy"], updating: ["Updating", "busy"], ready: ["Ready", "ok"], failed: ["Failed", "bad"],
                      removing: ["Being removed", "busy"] };
    const ago = (iso) => span((Date.now() - Date.parse(iso)) / 1000), within = (iso) => span((Date.parse(iso) - Date.now()) / 1000);
    function span(seconds) {
      const s = Math.round(seconds);
      if (s < 90) return `${Math.max(s, 0)} s`;
      if (s < 5400) return `${Math.round(s / 60)} min`;
      return s < 129600 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} days`;
    }
    function renderPreviews() {
      const section = $("#previews");
      section.hidden = state.previews.length === 0;
      $("#preview-list").replaceChildren(...state.previews.map((p) => {
        const [label, tone] = PREVIEW[p.state] || [p.state, "idle"];
        const busy = p.state !== "ready" && p.state !== "failed";
        const links = Object.entries(p.urls || {}).map(([name, url]) => el("a", { class: "button primary", href: url, target: "_blank", rel: "noopener" },
          `Open ${name}`));
        return el("div", { class: "card preview", id: `preview=${p.id}`, "data-preview": p.id, "data-state": p.state, "data-branch": p.branch },
          el("div", { class: "checkout-line" }, el("strong", {}, p.branch), " at ", el("code", {}, short(p.commit || p.wanted)),
            el("span", { class: `pill ${tone}` }, label)),
          el("p", { class: "muted" }, `Made ${ago(p.created)} ago · removed in ${within(p.expires)}`,
            ` (${new Date(p.expires).toLocaleString()}) unless someone pushes to it or keeps it`),
          p.state === "failed" && p.reason ? el("div", { class: "failure" }, el("p", {}, p.reason)) : null,
          el("div", {}, ...links,
            el("button", { "data-action": "keep", disabled: busy, onclick: () => previewAction(p, "keep") }, "Keep"),
            el("button", { "data-action": "reset", disabled: busy || !p.commit,
                           onclick: () => action({ instance: p.instance, checkout: p.id, sandbox: "" }, "reset") }, "Reset its data"),
            el("button", { class: "danger", "data-action": "remove-preview", disabled: busy, onclick: () => previewAction(p, "remove") }, "Remove")));
      }));
      // An event's link (`/#preview=ID`) shows that preview, once.
      const linked = location.hash.startsWith("#preview=") && document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (linked) { linked.classList.add("focus"); if (!state.scrolled) { state.scrolled = true; linked.scrollIntoView({ block: "center" }); } }
    }
    async function previewAction(p, kind) {
      if (kind === "remove" && !(await ask(`Remove the preview of ${p.branch}?`,
        "Its copy and data are deleted. The branch stays; a push to it makes a new preview.", { danger: true, ok: "Remove" }))) return;
      try {
        await api(`/api/v1/previews/${encodeURIComponent(p.id)}${kind === "keep" ? "/keep" : ""}`, { method: kind === "keep" ? "POST" : "DELETE" });
        refresh();
      } catch (e) { alert(e.message); }
    }

    async function reveal(i) {
      if (state.revealed[key(i)]) { delete state.revealed[key(i)]; render(); return; }
      const status = await api(`${base(i)}${query(i, "&secrets=true")}`);
      state.revealed[key(i)] = Object.fromEntries(status.services.map((s) => [s.service, s]));
      render();
    }

    function ask(title, text, { danger = false, input = false, choices = null, ok = "OK" } = {}) {
      const dialog = $("#confirm");
      $("#confirm-title").textContent = title; $("#confirm-text").textContent = text;
      $("#confirm-input-label").hidden = !input; $("#confirm-input").value = ""; $("#confirm-input").required = input;
      const select = $("#confirm-select"); select.hidden = !choices;
      select.replaceChildren(...(choices || []).map((c) => el("option", { value: c }, c)));
      $("#confirm-ok").textContent = ok; $("#confirm-ok").className = danger ? "danger" : "primary";
      dialog.returnValue = "";
      dialog.showModal();
      return new Promise((resolve) => dialog.addEventListener("close", () => {
        if (dialog.returnValue !== "ok") return resolve(null);
        resolve(input ? $("#confirm-input").value : choices ? select.value : true);
      }, { once: true }));
    }

    async function action(i, kind) {
      let path = `${base(i)}/${kind}`, body;
      if (kind === "reset" && !(await ask(`Reset ${i.instance}?`,
        "Everything changed in this copy since it was made is thrown away, and it starts again from fresh data. Snapshots are kept.", { danger: true,
        ok: "Reset" }))) return;
      if (kind === "down" && !(await ask(`Stop ${i.instance}?`, "The databases stop; their data is kept and comes back with Start.", { ok: "Stop" }))) return;
      if (kind === "save") {
        const name = await ask("Save a snapshot", "A snapshot keeps a copy of this data that you can go back to later. Give it a name.", { input: true,
          ok: "Save" });
        if (!name) return;
        path = `${base(i)}/snapshots`; body = JSON.stringify({ name });
      }
      if (kind === "restore") {
        const { snapshots } = await api(`${base(i)}/snapshots${query(i)}`);
        if (!snapshots.length) { await ask("No snapshots yet", "Save a snapshot first; then you can come back to it here.", { ok: "OK" }); return; }
        const name = await ask(`Restore a snapshot into ${i.instance}?`,
          "The data now in this copy is replaced by the snapshot's. Save a snapshot first if you want to keep it.",
          { danger: true, choices: snapshots.map((s) => s.name), ok: "Restore" });
        if (!name) return;
        path = `${base(i)}/snapshots/${encodeURIComponent(name)}/restore`;
      }
      try {
        const op = await api(`${path}${query(i)}`, { method: "POST", body });
        state.ops[op.id] = op; render();
      } catch (e) { alert(e.message); }
    }

    function listen() {
      const events = new EventSource("/api/v1/events");
      events.addEventListener("update", (m) => {
        const { operation, event } = JSON.parse(m.data);
        const op = state.ops[operation];
        if (!op) { refresh(); return; }
        op.state = "running"; op.events = [...(op.events || []), event]; render();
      });
      events.addEventListener("end", (m) => { const op = JSON.parse(m.data); state.ops[op.id] = op; refresh(); });
      events.onerror = () => { events.close(); setTimeout(listen, 3000); };
    }

    $("#create-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const name = $("#create-name").value, c = state.checkouts[0];
      if (!c) return;
      try {
        const only = c.sandboxes.length === 1 ? "&sandbox=" + encodeURIComponent(c.sandboxes[0]) : "";
        const op = await api(`/api/v1/instances/${encodeURIComponent(name)}/up?checkout=${encodeURIComponent(c.id)}${only}`, { method: "POST" });
        state.ops[op.id] = op; $("#create-name").value = "";
        state.instances.push({ instance: name, sandbox: c.sandboxes[0] || "", checkout: c.id, services: [] }); render();
      } catch (err) { alert(err.message); }
    });

    refresh().then((signedIn) => { if (signedIn) listen(); });
    setInterval(() => { if (document.visibilityState === "visible") refresh(); }, 5000);
    """#
}
