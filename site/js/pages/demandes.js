// « Demandes »: the commune's card orders, newest first (GET /orders, pages with ?cursor=), with the column « Statut de
// la demande »; a draft can be continued (demande-nouvelle.html?id=) or cancelled (POST /orders/{id}/cancel).
import { api } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { addDownloads } from "../exports.js";
import { cardCount, cardNames, orderName, statusBadge } from "../commandes.js";
import { $, el, formatDateTime, hideAlert, showAlert } from "../ui.js";

const list = $("#liste-demandes");
const listAlert = $("#alerte-liste");
const more = $("#bouton-plus");
let next = null;
addDownloads(list, "/exports/orders");

function actionsCell(order) {
  const cell = el("td", { class: "fr-cell--multiline" });
  if (order.status !== "brouillon") return cell;
  const name = orderName(order);
  const cancel = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary fr-icon-close-circle-line fr-btn--icon-left",
    text: "Annuler", "aria-label": `Annuler la ${name.charAt(0).toLowerCase()}${name.slice(1)}` });
  cancel.addEventListener("click", () => askCancel(order, cell));
  cell.append(el("ul", { class: "app-actions" },
    el("li", {}, el("a", { class: "fr-btn fr-btn--sm fr-icon-arrow-right-line fr-btn--icon-left",
      href: `demande-nouvelle.html?id=${encodeURIComponent(order.id)}`, text: "Continuer",
      "aria-label": `Continuer la ${name.charAt(0).toLowerCase()}${name.slice(1)}` })),
    el("li", {}, cancel)));
  return cell;
}

function askCancel(order, cell) {
  const confirm = el("button", { type: "button", class: "fr-btn fr-btn--sm", text: "Confirmer l'annulation" });
  const keep = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary", text: "Ne pas annuler" });
  confirm.addEventListener("click", () => cancel(order, confirm));
  keep.addEventListener("click", () => {
    const fresh = actionsCell(order);
    cell.replaceWith(fresh);
    fresh.querySelector("a, button")?.focus();
  });
  cell.replaceChildren(el("p", { class: "app-why fr-mb-1w", text: "Les élus de ce brouillon pourront être commandés à nouveau." }),
    el("ul", { class: "app-actions" }, el("li", {}, confirm), el("li", {}, keep)));
  confirm.focus();
}

async function cancel(order, button) {
  button.disabled = true;
  hideAlert(listAlert);
  try {
    await api.post(`/orders/${encodeURIComponent(order.id)}/cancel`, {});
    await load();
    showAlert(listAlert, { type: "success", title: "Demande annulée",
      message: `La demande pour ${cardNames(order)} est annulée.` });
  } catch (error) {
    button.disabled = false;
    showAlert(listAlert, { title: "La demande n'a pas été annulée", message: error.message });
  }
}

function row(order) {
  return el("tr", { "data-demande": order.id },
    el("td", { class: "fr-cell--multiline" }, el("a", { href: `demande.html?id=${encodeURIComponent(order.id)}`, text: orderName(order) })),
    el("td", { class: "fr-cell--multiline", text: cardNames(order) }),
    el("td", { text: cardCount(order) }),
    el("td", {}, statusBadge(order)),
    el("td", { text: formatDateTime(order.updated_at || order.created_at) }),
    actionsCell(order));
}

function render(items, append) {
  if (!append && !items.length) {
    list.replaceChildren(el("tr", {}, el("td", { colSpan: 6 },
      "Aucune demande pour l'instant. Cliquez sur « Nouvelle demande » pour commander les cartes des élus.")));
    return;
  }
  const rows = items.map(row);
  if (append) list.append(...rows);
  else list.replaceChildren(...rows);
}

async function load({ append = false } = {}) {
  const page = await api.get(`/orders${append && next ? `?cursor=${encodeURIComponent(next)}` : ""}`);
  render(page.items, append);
  next = page.next;
  more.hidden = !next;
  return page;
}

more.addEventListener("click", async () => {
  more.disabled = true;
  try {
    const page = await load({ append: true });
    if (page.items.length) list.querySelector(`tr[data-demande="${CSS.escape(page.items[0].id)}"] a`)?.focus();
  } catch (error) {
    showAlert(listAlert, { title: "Les demandes suivantes n'ont pas pu être chargées", message: error.message });
  } finally {
    more.disabled = false;
  }
});

function notice() {
  const query = new URLSearchParams(location.search);
  if (query.has("envoyee")) {
    showAlert(listAlert, { type: "success", title: "Demande envoyée",
      message: "Votre demande est « En préparation »\u00a0: le fabricant va produire les cartes, qui seront livrées à "
        + "la préfecture. Son statut figure ci-dessous et vous serez prévenu par e-mail de chaque étape." });
  } else if (query.has("annulee")) {
    showAlert(listAlert, { type: "success", title: "Demande annulée",
      message: "Les élus de cette demande peuvent être commandés à nouveau." });
  }
  if (query.has("envoyee") || query.has("annulee")) history.replaceState(null, "", "demandes.html");
}

openSpace(["commune"]).then(async () => {
  try {
    await load();
    notice();
  } catch (error) {
    showAlert(listAlert, { title: "La liste des demandes n'a pas pu être chargée", message: error.message });
  }
}, showLoadError);
