// « Mes sessions »: GET /me/sessions (device, address, opened, last use), « Fermer cette session » on each
// (DELETE /me/sessions/{id}); ending the current one is logging out here.
import { HOME_OF_ROLE, api, clearSession, forgetDrafts } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { el, formatDateTime, showAlert } from "../ui.js";

const list = document.getElementById("liste-sessions");
const alertBox = document.getElementById("alerte-sessions");

function row(session) {
  const device = session.current ? `${session.device} (cet appareil)` : session.device;
  const how = session.method === "proconnect" ? " — ProConnect" : "";
  const button = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary" },
    session.current ? "Fermer cette session (me déconnecter)" : "Fermer cette session");
  button.addEventListener("click", () => end(session, button));
  return el("tr", {},
    el("td", {}, device + how),
    el("td", {}, session.source_ip || "—"),
    el("td", {}, formatDateTime(session.created_at)),
    el("td", {}, formatDateTime(session.last_used_at)),
    el("td", {}, button));
}

async function end(session, button) {
  button.disabled = true;
  try {
    await api.delete(`/me/sessions/${encodeURIComponent(session.id)}`);
    if (session.current) {
      clearSession();
      forgetDrafts();
      location.assign("index.html?deconnexion=1");
      return;
    }
    showAlert(alertBox, { type: "success", title: "Session fermée",
      message: `La session « ${session.device} » est fermée : cet appareil devra se reconnecter.` });
    await load();
  } catch (error) {
    button.disabled = false;
    showAlert(alertBox, { title: "La session n'a pas été fermée", message: error.message });
  }
}

async function load() {
  const { items } = await api.get("/me/sessions");
  list.replaceChildren(...items.map(row));
}

try {
  const me = await openSpace(["commune", "manufacturer", "prefecture"]);
  const home = HOME_OF_ROLE[me.role] || "index.html";
  document.getElementById("retour-accueil").href = home;
  document.querySelectorAll(".fr-header__service a").forEach((link) => { link.href = home; });
  await load();
} catch (error) {
  showLoadError(error);
}
