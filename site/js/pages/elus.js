// « ELUS »: the commune's registered officials (GET /officials) with their photo and card preview; change the function
// (PATCH), remove (DELETE), add or change the photo (elu-nouveau.html?elu=<id>). An official the commune declared
// (origin "declared": not yet in the national directory) shows « Déclaré par la commune » and where its declaration
// stands, with a link to its follow-up (elu-declaration.html?elu=<id>: send another procès-verbal).
import { api } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { addDownloads } from "../exports.js";
import { personName, pictureLink, sleep } from "../commandes.js";
import { PHOTO_SIZE } from "../constants.js";
import { declarationBadge, declarationReason, declaredBadge } from "../declarations.js";
import { $, el, hideAlert, showAlert } from "../ui.js";
import { de } from "../typography.js";

const list = $("#liste-elus");
addDownloads(list, "/exports/officials");
const listAlert = $("#alerte-liste");
let officials = [];
let watching = false;

const PHOTO_BADGES = {
  missing: ["fr-badge--warning", "Photo manquante"],
  processing: ["fr-badge--info", "Photo en cours de traitement"],
  ready: ["fr-badge--success", "Photo prête"],
  rejected: ["fr-badge--error", "Photo refusée"],
};

function badge(className, text) {
  return el("p", { class: `fr-badge fr-badge--sm ${className}`, text });
}

function nameCell(official) {
  const cell = el("th", { scope: "row" }, el("span", { text: `${official.last_name} ${official.first_name}` }));
  if (official.mandate_ended) cell.append(el("br"), badge("fr-badge--warning", "Mandat terminé"));
  if (official.origin === "declared" && official.declaration) {
    cell.classList.add("fr-cell--multiline");
    cell.append(el("div", { class: "app-badges fr-mt-1w" }, declaredBadge(official),
      declarationBadge(official.declaration)));
    const reason = declarationReason(official.declaration);
    if (reason) cell.append(el("p", { class: "app-why fr-mt-1w", text: reason }));
  }
  return cell;
}

function photoCell(official) {
  const photo = official.photo;
  // A refused replacement leaves the photo in use as it was: the badge is that photo's, the refusal a note below.
  const inUse = photo.status === "rejected" && photo.ready ? "ready" : photo.status;
  let [className, text] = PHOTO_BADGES[inUse] || PHOTO_BADGES.missing;
  if (inUse === "ready" && photo.blocking) [className, text] = ["fr-badge--error", "Photo non conforme"];
  else if (inUse === "ready" && photo.checks?.length) [className, text] = ["fr-badge--warning", "Photo à vérifier"];
  const cell = el("td", { class: "fr-cell--multiline" }, badge(className, text));
  if (inUse === "ready" && photo.checks?.length) {
    cell.append(el("ul", { class: "app-why fr-mt-1w" }, photo.checks.map((check) => el("li", { text: check.message }))));
  }
  if (photo.status === "rejected" && photo.ready) {
    cell.append(el("p", { class: "app-why fr-mt-1w", text: "Nouvelle photo refusée\u00a0: "
      + `${photo.reason || "elle n'a pas été acceptée."} La photo en place est conservée.` }));
  } else if (photo.status === "rejected") {
    cell.append(el("p", { class: "app-why fr-mt-1w", text: photo.reason || "La photo n'a pas été acceptée." }));
  }
  if (photo.status === "missing" && photo.reason) {  // deleted after the card's order closed, and why
    cell.append(el("p", { class: "app-why fr-mt-1w", text: photo.reason }));
  }
  if (photo.ready && photo.url) {
    // loading before src: the browser fetches the photos as they come near the screen, not all at once
    cell.prepend(el("img", { loading: "lazy", decoding: "async", width: PHOTO_SIZE.width, height: PHOTO_SIZE.height,
      src: photo.url, alt: `Photo d'identité ${de(personName(official))}`, class: "app-id-photo app-id-photo--sm fr-mb-1w" }));
  }
  return cell;
}

function previewCell(official) {
  const preview = official.preview;
  if (preview.status === "ready" && preview.url) {
    return el("td", {}, pictureLink(preview.url, `Aperçu de la carte ${de(personName(official))}`));
  }
  if (preview.status === "processing") return el("td", {}, el("p", { class: "app-why", text: "Aperçu en préparation…" }));
  return el("td", {}, el("p", { class: "app-why app-muted", text: "Après l'ajout de la photo" }));
}

function actionsCell(official) {
  const cell = el("td", { class: "fr-cell--multiline" });
  const name = personName(official);
  if (official.card_in_progress) {
    cell.append(el("p", { class: "app-why", text: "Carte en cours de commande\u00a0: ni la photo, ni la fonction ne "
      + "peuvent changer, et l'élu ne peut pas être retiré." }),
    el("ul", { class: "app-actions" },
      official.origin === "declared" && official.declaration ? el("li", {}, declarationLink(official)) : null,
      el("li", {}, el("a", { class: "fr-link fr-text--sm", href: "demandes.html", text: "Voir les demandes" })),
      el("li", {}, downloadButton(official))));
    return cell;
  }
  const actions = [];
  if (official.origin === "declared" && official.declaration) actions.push(declarationLink(official));
  const refused = official.declaration?.status === "refused"; // no card: no photo to add
  if (!refused) actions.push(el("a", {
    class: `fr-btn fr-btn--sm ${official.photo.ready ? "fr-btn--secondary" : ""} fr-icon-image-edit-line fr-btn--icon-left`,
    href: `elu-nouveau.html?elu=${encodeURIComponent(official.id)}`,
    text: official.photo.ready ? "Changer la photo" : "Ajouter la photo",
    "aria-label": `${official.photo.ready ? "Changer la photo" : "Ajouter la photo"} ${de(name)}`,
  }));
  if (official.eligible_functions.length > 1) {
    const change = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary fr-icon-edit-line fr-btn--icon-left",
      text: "Changer la fonction", "aria-label": `Changer la fonction ${de(name)}` });
    change.addEventListener("click", () => askFunction(official, cell));
    actions.push(change);
  }
  const remove = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary fr-icon-delete-line fr-btn--icon-left",
    text: "Supprimer", "aria-label": `Supprimer ${name}` });
  remove.addEventListener("click", () => askRemoval(official, cell));
  actions.push(downloadButton(official), remove);
  cell.append(el("ul", { class: "app-actions" }, actions.map((action) => el("li", {}, action))));
  return cell;
}

/** The declaration's follow-up: « Envoyer le procès-verbal » while it is awaited, « Voir la déclaration » otherwise. */
function declarationLink(official) {
  const awaited = official.declaration.status === "awaiting_proof";
  const text = awaited ? "Envoyer le procès-verbal" : "Voir la déclaration";
  return el("a", { class: `fr-btn fr-btn--sm ${awaited ? "" : "fr-btn--secondary"} fr-icon-file-text-line fr-btn--icon-left`,
    href: `elu-declaration.html?elu=${encodeURIComponent(official.id)}`, text,
    "aria-label": `${text} ${de(personName(official))}` });
}

function askRemoval(official, cell) {
  const name = personName(official);
  const confirm = el("button", { type: "button", class: "fr-btn fr-btn--sm", text: "Confirmer la suppression",
    "aria-label": `Confirmer la suppression ${de(name)}` });
  const cancel = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary", text: "Annuler" });
  confirm.addEventListener("click", () => remove(official, confirm));
  cancel.addEventListener("click", () => {
    const fresh = actionsCell(official);
    cell.replaceWith(fresh);
    fresh.querySelector("button, a")?.focus();
  });
  cell.replaceChildren(
    el("p", { class: "app-why fr-mb-1w", text: `${name} ne figurera plus dans la liste des élus et ses photos seront `
      + "supprimées. Vous pouvez d'abord télécharger ses données." }),
    el("ul", { class: "app-actions" }, el("li", {}, confirm), el("li", {}, downloadButton(official)),
      el("li", {}, cancel)));
  confirm.focus();
}

/** « Télécharger ses données »: everything the portal holds about the official, as a JSON file (GET .../export). */
function downloadButton(official) {
  const name = personName(official);
  const button = el("button", { type: "button",
    class: "fr-btn fr-btn--sm fr-btn--tertiary fr-icon-download-line fr-btn--icon-left",
    text: "Télécharger ses données", "aria-label": `Télécharger ses données (${name}, fichier JSON)` });
  button.addEventListener("click", () => download(official, button));
  return button;
}

async function download(official, button) {
  button.disabled = true;
  hideAlert(listAlert);
  try {
    const data = await api.get(`/officials/${encodeURIComponent(official.id)}/export`);
    const file = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    const link = el("a", { href: URL.createObjectURL(file) });
    link.download = `donnees-elu-${official.last_name}-${official.first_name}.json`
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z0-9.-]+/g, "-").toLowerCase();
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    showAlert(listAlert, { type: "success", title: "Données téléchargées",
      message: `Le fichier contient tout ce que le portail conserve sur ${personName(official)}\u00a0: sa fiche, `
        + "les lignes du répertoire, ses demandes de carte et les liens de ses photos, valables 10 minutes." });
  } catch (error) {
    showAlert(listAlert, { title: "Les données n'ont pas été téléchargées", message: error.message });
  } finally {
    button.disabled = false;
  }
}

function askFunction(official, cell) {
  const name = personName(official);
  const legendId = `fonction-${official.id}-legende`;
  const form = el("form", { method: "post", noValidate: true, class: "app-inline-form" },
    el("fieldset", { class: "fr-fieldset fr-mb-0", "aria-labelledby": legendId },
      el("legend", { class: "fr-fieldset__legend fr-fieldset__legend--regular fr-text--sm", id: legendId,
        text: `Fonction ${de(name)}` }),
      official.eligible_functions.map((choice, index) => el("div", { class: "fr-fieldset__element" },
        el("div", { class: "fr-radio-group fr-radio-group--sm" },
          el("input", { type: "radio", id: `fonction-${official.id}-${index}`, name: "function", value: choice.code,
            checked: choice.code === official.function }),
          el("label", { class: "fr-label", for: `fonction-${official.id}-${index}`, text: choice.label }))))),
    el("ul", { class: "app-actions" },
      el("li", {}, el("button", { type: "submit", class: "fr-btn fr-btn--sm", text: "Enregistrer la fonction" })),
      el("li", {}, el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary", text: "Annuler",
        "data-action": "annuler" }))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = form.querySelector("input[name=function]:checked")?.value;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const changed = await api.patch(`/officials/${encodeURIComponent(official.id)}`, { function: chosen });
      await load();
      showAlert(listAlert, { type: "success", title: "Fonction modifiée",
        message: `${name}\u00a0: ${changed.function_label}. L'aperçu de la carte est mis à jour.` });
    } catch (error) {
      button.disabled = false;
      showAlert(listAlert, { title: "La fonction n'a pas été modifiée", message: error.message });
    }
  });
  form.querySelector("[data-action=annuler]").addEventListener("click", () => {
    const fresh = actionsCell(official);
    cell.replaceWith(fresh);
    fresh.querySelector("button, a")?.focus();
  });
  cell.replaceChildren(form);
  form.querySelector("input:checked, input")?.focus();
}

async function remove(official, button) {
  button.disabled = true;
  hideAlert(listAlert);
  try {
    await api.delete(`/officials/${encodeURIComponent(official.id)}`);
    await load();
    showAlert(listAlert, { type: "success", title: "Élu supprimé",
      message: `${personName(official)} ne figure plus dans la liste des élus\u00a0; ses photos ont été supprimées.` });
  } catch (error) {
    button.disabled = false;
    showAlert(listAlert, { title: "L'élu n'a pas été supprimé", message: error.message });
  }
}

function row(official) {
  const tr = el("tr", { "data-elu": official.id },
    nameCell(official),
    el("td", { text: official.function_label }),
    photoCell(official),
    previewCell(official),
    actionsCell(official));
  // On a phone each row is a card (site.css, .app-table--cards): each cell says its column's name.
  const headers = [...document.querySelectorAll("#table-elus thead th")].map((th) => th.textContent.trim());
  [...tr.cells].forEach((cell, index) => cell.setAttribute("data-label", headers[index] || ""));
  return tr;
}

/** What the row shows, to redraw only the rows that changed while photos are being processed. */
function signature(official) {
  return JSON.stringify([official.function_label, official.photo.status, official.photo.reason, official.photo.ready,
    official.photo.checks,
    official.preview.status, official.card_in_progress, official.mandate_ended, official.declaration]);
}

function render(items) {
  officials = items;
  $("#nombre-elus").textContent = items.length
    ? `${items.length} élu${items.length > 1 ? "s" : ""} enregistré${items.length > 1 ? "s" : ""}.`
    : "";
  if (!items.length) {
    list.replaceChildren(el("tr", {}, el("td", { colSpan: 5 },
      "Aucun élu n'est encore enregistré. Cliquez sur « Enregistrer un élu » pour commencer.")));
    return;
  }
  list.replaceChildren(...items.map(row));
}

function busy(items) {
  return items.some((o) => o.photo.status === "processing" || o.preview.status === "processing");
}

/** While photos or previews are being prepared, look again every few seconds (a minute at most). */
async function watch() {
  if (watching) return;
  watching = true;
  try {
    for (let round = 0; round < 30 && busy(officials); round += 1) {
      await sleep(2000);
      const fresh = (await api.get("/officials")).items;
      const before = new Map(officials.map((o) => [o.id, signature(o)]));
      if (fresh.length !== officials.length || fresh.some((o) => !before.has(o.id))) {
        render(fresh);
        continue;
      }
      for (const official of fresh) {
        if (before.get(official.id) !== signature(official)) {
          list.querySelector(`tr[data-elu="${CSS.escape(official.id)}"]`)?.replaceWith(row(official));
        }
      }
      officials = fresh;
    }
  } catch {
    // The list stays as it is; reloading the page shows the news.
  } finally {
    watching = false;
  }
}

async function load() {
  const page = await api.get("/officials");
  render(page.items);
  watch();
}

openSpace(["commune"]).then(async () => {
  try {
    await load();
  } catch (error) {
    showAlert(listAlert, { title: "La liste des élus n'a pas pu être chargée", message: error.message });
  }
}, showLoadError);
