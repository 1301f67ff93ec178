// One card order in the back office (GET /admin/orders/{id}), for the card maker and the préfecture: the moves the
// role may make (allowed_moves, POST /admin/orders/{id}/transitions), the reason of a rejection, card numbers and final
// cards once in production, the hand-over receipt once delivered (GET /admin/orders/{id}/receipt).
import { HOME_OF_ROLE, api } from "../api.js";
import { printArchive } from "../gestion.js";
import { openSpace, showLoadError } from "../espace.js";
import {
  addressBlock, alertsBlock, cardCount, historyRows, orderName, personName, previewCell, rejection, retentionFact, sleep,
  statusBadge,
} from "../commandes.js";
import { confirmMove } from "../confirmation.js";
import {
  $, clearErrors, el, formActions, formatDateTime, formValues, hideAlert, onSubmit, openFormRow, showAlert, showFormError,
  whileBusy,
} from "../ui.js";
import { de } from "../typography.js";

const pageAlert = $("#alerte-demande");
const movesAlert = $("#alerte-transitions");
const rejectForm = $("#form-rejet");
let order = null;
let role = null;
let watching = false;

function backLink() {
  const link = $("#lien-retour");
  if (role === "manufacturer") {
    link.href = `fabricant-demandes.html?statut=${encodeURIComponent(order?.status || "en_preparation")}`;
    link.textContent = "Retour aux demandes de cartes";
  } else {
    link.href = "prefecture.html#demandes";
    link.textContent = "Retour à l'espace préfecture";
  }
}

function cardNumberCell(card) {
  if (!card.card_number) return el("td", { text: card.card_number_label || "—" });
  if (role !== "prefecture") return el("td", { text: card.card_number });
  // The préfecture hands each card over from its registry page.
  return el("td", {}, el("a", { href: `prefecture-cartes.html?numero=${encodeURIComponent(card.card_number)}`,
    text: card.card_number, "aria-label": `Ouvrir la carte n°\u00a0${card.card_number} dans le registre` }),
  card.handed_over_at ? el("span", { class: "fr-hint-text", text: `Remise le ${formatDateTime(card.handed_over_at)}` }) : null);
}

/** What the photo assistant said of the photo ordered: the card maker checks those photos first. */
function photoWarnings(card) {
  const checks = card.photo_checks || [];
  if (!checks.length) return el("li", { class: "fr-text--sm app-muted", text: "Photo sans avertissement" });
  return el("li", {}, el("ul", { class: "app-checks" }, checks.map((check) => el("li", {},
    el("p", { class: `fr-badge fr-badge--sm ${check.level === "error" ? "fr-badge--error" : "fr-badge--warning"}`,
      text: check.level === "error" ? "Erreur" : "Avertissement" }),
    el("span", { class: "fr-text--sm", text: ` ${check.message}` })))));
}

function cardRow(card) {
  const name = personName(card);
  const cells = [
    el("th", { scope: "row" }, `${card.last_name} ${card.first_name}`,
      card.reason && card.reason !== "premiere_demande" ? el("span", { class: "fr-hint-text", text: `Motif : ${card.reason_label}` }) : null),
    el("td", { text: card.function_label }),
    cardNumberCell(card),
    previewCell(order, card),
  ];
  if (role === "manufacturer") {
    const files = [];
    if (card.photo_url) {
      files.push(el("li", {}, el("a", { class: "fr-link fr-text--sm", href: card.photo_url, target: "_blank", rel: "noopener",
        text: "Photo d'identité", title: `Photo d'identité ${de(name)} — nouvelle fenêtre` })));
    }
    if (card.card_url) {
      files.push(el("li", {}, el("a", { class: "fr-link fr-text--sm", href: card.card_url, target: "_blank", rel: "noopener",
        text: "Carte définitive", title: `Carte définitive ${de(name)} (${card.card_number}) — nouvelle fenêtre` })));
    } else if (card.card_number && !order.photos_deleted_at) {
      files.push(el("li", { class: "fr-text--sm app-muted", text: "Carte définitive en préparation…" }));
    }
    if (order.photos_deleted_at) files.push(el("li", { class: "fr-text--sm app-muted", text: "Fichiers supprimés" }));
    files.push(photoWarnings(card));
    if (card.photo_rejected) {
      files.push(el("li", {}, el("p", { class: "fr-badge fr-badge--sm fr-badge--error", text: "Photo refusée" }),
        el("span", { class: "fr-text--sm", text: ` ${card.photo_rejected.reason}` })));
    } else if (["en_preparation", "en_production"].includes(order.status)) {
      const refuse = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary fr-icon-close-circle-line fr-btn--icon-left",
        text: "Refuser la photo", "aria-label": `Refuser la photo\u00a0: ${name}`, "aria-expanded": "false",
        "aria-controls": `refus-photo-${card.official_id}` });
      refuse.addEventListener("click", () => askPhotoRejection(card, refuse));
      files.push(el("li", {}, refuse));
    }
    cells.push(el("td", {}, el("ul", { class: "app-actions app-actions--column" }, files)));
  }
  return el("tr", { "data-carte": card.official_id }, cells);
}

/** The reason of a photo refused, in a row under the card; the other cards of the order go on. */
function askPhotoRejection(card, button) {
  const key = card.official_id;
  const name = personName(card);
  const alertId = `refus-photo-alerte-${key}`;
  const form = openFormRow(button, `refus-photo-${key}`, () => el("form", { method: "post", noValidate: true, "data-alert": alertId },
    el("div", { id: alertId, tabindex: "-1", hidden: true, "data-heading": "h3" }),
    el("div", { class: "fr-input-group" },
      el("label", { class: "fr-label", for: `refus-photo-motif-${key}` }, `Motif du refus de la photo ${de(name)}`,
        el("span", { class: "fr-hint-text", text: "Communiqué à la mairie, qui envoie une nouvelle photo (par exemple « visage flou »)." })),
      el("textarea", { class: "fr-input", id: `refus-photo-motif-${key}`, name: "reason", rows: 2, maxLength: 500, required: true })),
    formActions({ text: "Refuser la photo" })));
  if (!form) return;
  onSubmit(form, async () => {
    clearErrors(form);
    const { reason } = formValues(form);
    if (!reason) {
      showFormError(form, { code: "reason_required", message: "Indiquez le motif du refus de la photo.",
        details: { reason: "Indiquez le motif du refus de la photo." } }, { title: "La photo n'a pas été refusée" });
      return;
    }
    const sure = await confirmMove({ title: "Refuser la photo", confirmLabel: "Refuser la photo",
      message: `La carte ${de(name)} sort de la demande (motif\u00a0: ${reason})\u202f; les autres cartes continuent. La mairie en est informée et enverra une nouvelle photo.` });
    if (!sure) return;
    await whileBusy(form, async () => {
      try {
        order = await api.post(`/admin/orders/${encodeURIComponent(order.id)}/cards/${encodeURIComponent(key)}/reject-photo`, { reason });
        render();
        showAlert(pageAlert, { type: "success", title: `Photo ${de(name)} refusée`,
          message: order.status === "rejetee" ? "Toutes les photos de la demande sont refusées : la demande est rejetée."
            : "Les autres cartes de la demande continuent. La mairie en est informée par e-mail." });
      } catch (error) {
        showFormError(form, error, { title: "La photo n'a pas été refusée", fieldOfCode: { reason_required: "reason" } });
      }
    });
  });
}

function renderCards() {
  $("#cartes").replaceChildren(...order.cards.map(cardRow));
}

// What each move does, as the confirmation says it before the move is made.
const MOVE_CONSEQUENCES = {
  en_production: "Les numéros de carte sont attribués et les cartes définitives sont dessinées.",
  en_livraison: "Les cartes partent vers la préfecture du département.",
  livree: "Les cartes sont enregistrées comme reçues à la préfecture.",
  remise: "Toutes les cartes non encore remises le sont à leurs titulaires, en personne. Pour une remise à un représentant de la mairie, remettez les cartes une par une depuis le registre des cartes.",
  rejetee: "La demande est rejetée : la mairie en est informée avec le motif, et ses élus pourront être commandés à nouveau.",
};

function moveButton(move) {
  const button = el("button", { type: "button", class: "fr-btn fr-icon-arrow-right-line fr-btn--icon-left",
    text: `Passer à « ${move.label} »` });
  button.addEventListener("click", () => makeMove(move, null, button));
  return el("li", {}, button);
}

/** The last move undone, by the role that made it, within minutes (GET …: `undo`). */
function undoButton() {
  const label = `Annuler «\u00a0${order.undo.label}\u00a0»`;
  const button = el("button", { type: "button", class: "fr-btn fr-btn--tertiary fr-icon-arrow-go-back-line fr-btn--icon-left", text: label });
  button.addEventListener("click", async () => {
    const sure = await confirmMove({ title: label, confirmLabel: label,
      message: `${orderName(order)} — ${order.commune_name} revient à l'étape précédente (possible jusqu'à ${formatDateTime(order.undo.until)}).` });
    if (!sure) return;
    button.disabled = true;
    hideAlert(pageAlert);
    try {
      order = await api.post(`/admin/orders/${encodeURIComponent(order.id)}/undo`, {});
      render();
      showAlert(pageAlert, { type: "success", title: `Étape annulée\u00a0: la demande est « ${order.status_label} »`, message: "" });
    } catch (error) {
      button.disabled = false;
      showAlert(movesAlert, { title: "L'étape n'a pas été annulée", message: error.message });
    }
  });
  return el("li", {}, button);
}

/** The card maker's print files of this order in one archive: photos, final cards, a CSV manifest. */
function archiveButton() {
  const button = el("button", { type: "button", class: "fr-btn fr-btn--secondary fr-icon-download-line fr-btn--icon-left",
    text: "Télécharger les fichiers d'impression (ZIP)" });
  button.addEventListener("click", () => printArchive(button, movesAlert, order.id));
  return el("li", {}, button);
}

function renderMoves() {
  const moves = order.allowed_moves || [];
  const plain = moves.filter((move) => !move.reason_required);
  const rejecting = moves.find((move) => move.reason_required);
  const buttons = plain.map(moveButton);
  if (order.undo) buttons.push(undoButton());
  if (role === "manufacturer" && ["en_preparation", "en_production"].includes(order.status)) buttons.push(archiveButton());
  $("#transitions").replaceChildren(...(buttons.length
    ? [el("ul", { class: "fr-btns-group fr-btns-group--inline-md fr-btns-group--icon-left" }, buttons)]
    : []));
  rejectForm.hidden = !rejecting;
  if (rejecting) rejectForm.dataset.to = rejecting.to;
  $("#section-transitions").hidden = !moves.length && !buttons.length;
  $("#aucune-transition").hidden = Boolean(moves.length);
  $("#aucune-transition").textContent = moves.length ? "" : ({
    en_preparation: "La demande attend le fabricant.",
    en_production: "La demande est en fabrication.",
    en_livraison: "Les cartes sont en cours de livraison à la préfecture.",
    livree: "Les cartes sont à la préfecture, qui les remet aux élus.",
    remise: "Les cartes ont été remises aux élus\u00a0: la demande est terminée.",
    rejetee: "La demande a été rejetée\u00a0: elle est terminée.",
    annulee: order.history.at(-1)?.by_role === "portail"
      ? "Brouillon jamais envoyé, annulé automatiquement\u00a0: la demande est terminée."
      : "La demande a été annulée par la mairie\u00a0: elle est terminée.",
    brouillon: "La mairie n'a pas encore envoyé cette demande.",
  }[order.status] || "Aucune action n'est possible sur cette demande avec votre profil.");
}

function renderReceipt() {
  const box = $("#recepisse");
  const available = ["livree", "remise_partielle", "remise"].includes(order.status);
  box.hidden = !available;
  if (!available) return;
  const button = el("button", { type: "button", class: "fr-btn fr-btn--secondary fr-icon-file-pdf-line fr-btn--icon-left",
    text: "Préparer le récépissé de remise" });
  button.addEventListener("click", () => receipt(button));
  $("#recepisse-action").replaceChildren(button);
}

async function receipt(button) {
  button.disabled = true;
  try {
    const document_ = await api.get(`/admin/orders/${encodeURIComponent(order.id)}/receipt`);
    const pages = document_.pages ? ` (PDF, ${document_.pages} page${document_.pages > 1 ? "s" : ""})` : " (PDF)";
    const link = el("a", { class: "fr-link fr-icon-download-line fr-link--icon-left", href: document_.url, target: "_blank",
      rel: "noopener", text: `Ouvrir le récépissé de remise${pages}`,
      title: `Ouvrir le récépissé de remise${pages} — nouvelle fenêtre` });
    $("#recepisse-action").replaceChildren(link,
      el("p", { class: "fr-hint-text fr-mt-1w", text: `Lien valable jusqu'à ${formatDateTime(document_.expires_at)}.` }));
    link.focus();
  } catch (error) {
    button.disabled = false;
    showAlert(pageAlert, { title: "Le récépissé n'a pas pu être préparé", message: error.message });
  }
}

function render() {
  const name = `${orderName(order)} — ${order.commune_name}`;
  $("#titre-demande").textContent = name;
  document.title = `${name} — Cartes d'identité des élus`;
  const facts = [
    ["Statut de la demande", statusBadge(order)],
    ["Commune", `${order.commune_name} (SIREN ${order.siren})`],
    ["Département", order.department_code],
    ["Date de la demande", formatDateTime(order.created_at)],
    ["Dernière mise à jour", formatDateTime(order.updated_at || order.created_at)],
    ["Nombre de cartes", cardCount(order)],
  ];
  const reason = order.status === "rejetee" ? rejection(order) : null;
  if (reason) facts.push(["Motif du rejet", reason]);
  const retention = retentionFact(order);
  if (retention) facts.push(retention);
  $("#faits").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", {}, value)]));
  const alerts = alertsBlock(order);
  $("#alertes").replaceChildren(...(alerts ? [alerts] : []));
  $("#colonne-fichiers").hidden = role !== "manufacturer";
  renderCards();
  $("#adresse-livraison").replaceChildren(addressBlock(order.delivery_address));
  $("#historique").replaceChildren(...historyRows(order));
  renderMoves();
  renderReceipt();
  backLink();
  watchCards();
}

async function makeMove(move, reason, button) {
  clearErrors(rejectForm);
  hideAlert(movesAlert);
  hideAlert(pageAlert);
  const label = move.label || "Rejetée";
  // A rejection without its reason goes straight to the API, whose refusal says what is missing.
  const sure = reason === "" || await confirmMove({ title: `Passer à « ${label} »`, confirmLabel: `Passer à « ${label} »`,
    message: `${orderName(order)} — ${order.commune_name}, ${cardCount(order)}. ${MOVE_CONSEQUENCES[move.to] || ""}`
      + (reason ? ` Motif : ${reason}` : "") });
  if (!sure) return;
  if (button) button.disabled = true;
  try {
    order = await api.post(`/admin/orders/${encodeURIComponent(order.id)}/transitions`,
      reason === null ? { to: move.to } : { to: move.to, reason });
    render();
    rejectForm.reset();
    showAlert(pageAlert, { type: "success", title: `Demande passée à « ${order.status_label} »`,
      message: move.to === "en_production"
        ? "Les numéros de carte sont attribués et les cartes définitives sont en préparation."
        : "La mairie en est informée par e-mail." });
  } catch (error) {
    if (button) button.disabled = false;
    if (reason !== null) {
      showFormError(rejectForm, error, { title: "La demande n'a pas été rejetée",
        fieldOfCode: { reason_required: "reason" } });
    } else {
      showAlert(movesAlert, { title: "La demande n'a pas changé de statut", message: error.message });
    }
  }
}

onSubmit(rejectForm, async () => {
  const { reason } = formValues(rejectForm);
  await whileBusy(rejectForm, () => makeMove({ to: rejectForm.dataset.to || "rejetee" }, reason || "", null));
});

/** Once in production, the final cards are drawn in the background: look again until each has its file. */
async function watchCards() {
  if (watching || role !== "manufacturer") return;
  watching = true;
  try {
    for (let round = 0; round < 30; round += 1) {
      if (order.photos_deleted_at || !order.cards.some((card) => card.card_number && !card.card_url)) return;
      await sleep(1500);
      const fresh = await api.get(`/admin/orders/${encodeURIComponent(order.id)}`);
      if (fresh.status !== order.status) return;
      order = fresh;
      renderCards();
    }
  } catch {
    // Reloading the page shows them.
  } finally {
    watching = false;
  }
}

async function start(me) {
  role = me.role;
  document.querySelector(".fr-header__service a").href = HOME_OF_ROLE[role];
  backLink();
  const id = new URLSearchParams(location.search).get("id");
  try {
    if (!id) throw new Error("Aucune demande n'est indiquée dans l'adresse de la page.");
    order = await api.get(`/admin/orders/${encodeURIComponent(id)}`);
  } catch (error) {
    $("#contenu-demande").hidden = true;
    $("#titre-demande").textContent = "Demande introuvable";
    showAlert(pageAlert, { title: "Cette demande n'a pas pu être affichée", message: error.message });
    return;
  }
  render();
}

openSpace(["manufacturer", "prefecture"]).then(start, showLoadError);
