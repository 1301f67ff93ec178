// Dashboard of a commune agent: the commune, its progress (GET /dashboard: officials eligible, registered, ordered,
// handed over), what the latest directory updates changed for it, the "Accès rapide" box, the préfecture that
// receives the cards.
import { api } from "../api.js";
import { el, formatDate, formatNumber } from "../ui.js";
import { openSpace, showLoadError } from "../espace.js";
import { de } from "../typography.js";

function showCommune(commune) {
  document.getElementById("identite-commune").textContent =
    `SIREN ${commune.siren} · code INSEE ${commune.insee_code} · département ${commune.department_code}`;
  const address = document.getElementById("adresse-livraison");
  const place = commune.delivery_address;
  if (!place) {
    address.replaceChildren(el("p", {
      text: "L'adresse de la préfecture de votre département n'est pas encore connue du service. " +
        "Elle sera indiquée ici avant votre première demande.",
    }));
    return;
  }
  address.replaceChildren(
    el("strong", { text: place.name }), el("br"),
    place.address, el("br"),
    `${place.postal_code} ${place.city}`,
  );
}

// --- what a directory update changed (GET /directory-notices) -------------------------------------------------------

function newlyEligibleItem(line) {
  const label = `${line.name}, ${line.function_label}`;
  if (line.registered) {
    return el("li", {}, `${label} (déjà enregistré) — `, el("a", { href: "elus.html", text: "Voir les élus" }));
  }
  return el("li", {}, `${label} — `, el("a", {
    href: `elu-nouveau.html?q=${encodeURIComponent(line.name)}`, // the directory's search matches every word
    text: `Enregistrer ${line.name}`,
  }));
}

function orderItem(line, extra) {
  return el("li", {}, `${line.name}, ${line.function_label}${extra} — `, el("a", {
    href: `demande.html?id=${encodeURIComponent(line.order_id)}`, text: `Voir la demande ${de(line.name)}`,
  }));
}

function part(title, intro, items) {
  if (!items.length) return null;
  return el("div", { class: "fr-mt-2w" }, el("h4", { class: "fr-h6 fr-mb-1w", text: title }),
    intro ? el("p", { class: "fr-mb-1w", text: intro }) : null, el("ul", {}, items));
}

function noticeView(notice, onRead) {
  const titleId = `nouvelle-${notice.id}`;
  const button = el("button", { type: "button", class: "fr-btn fr-btn--secondary fr-btn--sm fr-mt-2w",
    text: "Marquer comme lu", "aria-describedby": titleId });
  const status = el("p", { class: "fr-error-text", role: "alert", hidden: true });
  button.addEventListener("click", () => onRead(notice, button, status));
  return el("div", { class: "fr-callout fr-mb-3w", "data-notice": notice.id },
    el("h3", { class: "fr-callout__title", id: titleId,
      text: `Mise à jour du ${formatDate(notice.created_at)} (${notice.source_label})` }),
    part("Élus pouvant désormais recevoir une carte", "Enregistrez-les pour leur commander une carte.",
      notice.newly_eligible.map(newlyEligibleItem)),
    part("Cartes à restituer à la préfecture",
      "La fonction imprimée sur ces cartes n'est plus détenue d'après le répertoire national des élus.",
      notice.cards_to_return.map((line) => orderItem(line, line.card_number ? `, carte n° ${line.card_number}` : ""))),
    part("Demandes en cours à vérifier", "Ces élus n'ont plus la fonction demandée : vérifiez la demande.",
      notice.orders_flagged.map((line) => orderItem(line, ""))),
    status, button);
}

async function markRead(notice, button, status) {
  button.disabled = true;
  status.hidden = true;
  try {
    await api.post(`/directory-notices/${encodeURIComponent(notice.id)}/read`);
  } catch (error) {
    if (error.code !== "not_found") { // not_found: already marked by another agent
      status.textContent = error.message;
      status.hidden = false;
      button.disabled = false;
      return;
    }
  }
  document.querySelector(`[data-notice="${CSS.escape(notice.id)}"]`)?.remove();
  const section = document.getElementById("nouvelles-repertoire");
  if (!document.querySelector("[data-notice]")) section.hidden = true;
  else document.getElementById("titre-nouvelles").focus();
}

async function showNotices() {
  let page;
  try {
    page = await api.get("/directory-notices");
  } catch {
    return; // the dashboard stays useful without them; the agents have them by email too
  }
  if (!page.items.length) return;
  document.getElementById("liste-nouvelles").replaceChildren(...page.items.map((n) => noticeView(n, markRead)));
  document.getElementById("nouvelles-repertoire").hidden = false;
}

async function showProgress() {
  let progress;
  try {
    progress = await api.get("/dashboard");
  } catch {
    return; // the rest of the page stays useful without it
  }
  for (const node of document.querySelectorAll("[data-progress]")) {
    node.textContent = formatNumber(progress[node.dataset.progress]);
  }
  document.getElementById("avancement").hidden = false;
}

openSpace(["commune"]).then((me) => {
  showCommune(me.commune);
  return Promise.all([showProgress(), showNotices()]);
}, showLoadError);
