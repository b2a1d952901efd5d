/* Model admin: the versions table, and activating one (a promotion or a rollback). */
import { authHeaders } from "./admin_token.js";
import { fillShadowVersions } from "./shadow.js";
import { setVersion, shownVersion } from "./view.js";

const modelsBody = document.querySelector("#models tbody");
const modelsStatus = document.querySelector("#models-status");

// A reload (e.g. on model_activated) must not wipe a message set meanwhile by
// activateModel, so only the "Loading…" this call wrote is cleared.
export async function loadModels() {
  const loading = modelsStatus.textContent ? null : "Loading…";
  if (loading) modelsStatus.textContent = loading;
  try {
    const res = await fetch("/api/models");
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      modelsStatus.textContent = `Could not load models: ${body.error || res.status}`;
      return;
    }
    renderModels(body);
    fillShadowVersions(Array.isArray(body.versions) ? body.versions : []);
    if (loading && modelsStatus.textContent === loading) modelsStatus.textContent = "";
  } catch (e) {
    modelsStatus.textContent = `Could not load models: ${e.message}`;
  }
}

function renderModels(body) {
  modelsBody.replaceChildren();
  const versions = Array.isArray(body.versions) ? body.versions.slice() : [];
  versions.sort((a, b) => b.version - a.version);
  if (!versions.length) {
    const tr = modelsBody.insertRow();
    const td = tr.insertCell();
    td.colSpan = 5;
    td.textContent = "No models yet.";
    return;
  }
  for (const m of versions) {
    const active = m.status === "active" || m.version === body.active;
    const tr = modelsBody.insertRow();
    tr.insertCell().textContent = `v${m.version}`;
    tr.insertCell().textContent = typeof m.test_accuracy === "number"
      ? `${(m.test_accuracy * 100).toFixed(2)}%` : "–";
    const created = m.created ? new Date(m.created) : null;
    tr.insertCell().textContent = created && !isNaN(created) ? created.toLocaleString() : (m.created || "–");
    const st = tr.insertCell();
    const badge = document.createElement("span");
    badge.className = `badge badge-${active ? "active" : m.status}`;
    badge.textContent = active ? "active" : m.status || "?";
    st.appendChild(badge);
    const act = tr.insertCell();
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "small";
    btn.textContent = active ? "active" : "activate";
    btn.disabled = active;
    btn.addEventListener("click", () => activateModel(m.version, btn));
    act.appendChild(btn);
  }
}

async function activateModel(version, btn) {
  btn.disabled = true;
  modelsStatus.textContent = `Activating v${version}…`;
  try {
    const res = await fetch(`/api/models/${encodeURIComponent(version)}/activate`, {
      method: "POST",
      headers: authHeaders(),
    });
    const body = await res.json().catch(() => ({}));
    if (res.ok) {
      setVersion(body.active !== undefined ? body.active : version);
      modelsStatus.textContent = `v${body.active !== undefined ? body.active : version} is active.`;
      await loadModels();
      modelsStatus.textContent = `v${shownVersion()} is active.`;
    } else if (res.status === 401 || res.status === 403) {
      modelsStatus.textContent = "Rejected: bad or missing admin token.";
      btn.disabled = false;
    } else {
      modelsStatus.textContent = `Could not activate: ${body.error || res.status}`;
      btn.disabled = false;
    }
  } catch (e) {
    modelsStatus.textContent = `Could not activate: ${e.message}`;
    btn.disabled = false;
  }
}

