// One card order of the commune (GET /orders/{id}): status, alerts, cards, delivery address, history; continue a
// draft, cancel when the status allows it (POST /orders/{id}/cancel).
import { api } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import {
  addressBlock, alertsBlock, cardCount, historyRows, orderName, previewCell, rejection, retentionFact, statusBadge,
} from "../commandes.js";
import { $, el, formatDateTime, hideAlert, showAlert } from "../ui.js";

const pageAlert = $("#alerte-demande");
let order = null;

function cardRow(card) {
  return el("tr", {},
    el("th", { scope: "row", text: `${card.last_name} ${card.first_name}` }),
    el("td", { text: card.function_label }),
    el("td", { text: card.card_number || card.card_number_label }),
    previewCell(order, card));
}

function actions() {
  const box = $("#actions");
  const items = [];
  if (order.status === "brouillon") {
    items.push(el("li", {}, el("a", { class: "fr-btn fr-icon-arrow-right-line fr-btn--icon-left",
      href: `demande-nouvelle.html?id=${encodeURIComponent(order.id)}`, text: "Continuer la demande" })));
  }
  if ((order.allowed_moves || []).some((move) => move.to === "annulee")) {
    const ask = el("button", { type: "button", class: "fr-btn fr-btn--secondary fr-icon-close-circle-line fr-btn--icon-left",
      text: "Annuler la demande" });
    ask.addEventListener("click", () => askCancel(ask));
    items.push(el("li", {}, ask));
  }
  box.replaceChildren(...(items.length ? [el("ul", { class: "fr-btns-group fr-btns-group--inline-md fr-btns-group--icon-left" }, items)] : []));
  box.hidden = !items.length;
}

function askCancel(ask) {
  const confirm = el("button", { type: "button", class: "fr-btn", text: "Confirmer l'annulation" });
  const keep = el("button", { type: "button", class: "fr-btn fr-btn--secondary", text: "Ne pas annuler" });
  confirm.addEventListener("click", () => cancel(confirm));
  keep.addEventListener("click", () => {
    actions();
    $("#actions button, #actions a")?.focus();
  });
  $("#actions").replaceChildren(
    el("p", { text: order.status === "brouillon" ? "La demande sera annulée et ses élus pourront être commandés à nouveau."
      : "La demande sera annulée avant sa fabrication et ses élus pourront être commandés à nouveau." }),
    el("ul", { class: "fr-btns-group fr-btns-group--inline-md" }, el("li", {}, confirm), el("li", {}, keep)));
  confirm.focus();
  ask.remove();
}

async function cancel(button) {
  button.disabled = true;
  hideAlert(pageAlert);
  try {
    order = await api.post(`/orders/${encodeURIComponent(order.id)}/cancel`, {});
    render();
    showAlert(pageAlert, { type: "success", title: "Demande annulée",
      message: "Les élus de cette demande peuvent être commandés à nouveau." });
  } catch (error) {
    button.disabled = false;
    showAlert(pageAlert, { title: "La demande n'a pas été annulée", message: error.message });
  }
}

function render() {
  const name = orderName(order);
  $("#titre-demande").textContent = name;
  document.title = `${name} — Cartes d'identité des élus`;
  const facts = [
    ["Statut de la demande", statusBadge(order)],
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
  $("#cartes").replaceChildren(...order.cards.map(cardRow));
  $("#adresse-livraison").replaceChildren(addressBlock(order.delivery_address));
  $("#historique").replaceChildren(...historyRows(order));
  actions();
}

async function start() {
  const id = new URLSearchParams(location.search).get("id");
  try {
    if (!id) throw new Error("Aucune demande n'est indiquée dans l'adresse de la page.");
    order = await api.get(`/orders/${encodeURIComponent(id)}`);
  } catch (error) {
    $("#contenu-demande").hidden = true;
    $("#titre-demande").textContent = "Demande introuvable";
    showAlert(pageAlert, { title: "Cette demande n'a pas pu être affichée", message: error.message,
      extra: el("p", {}, el("a", { href: "demandes.html", text: "Voir la liste des demandes" })) });
    return;
  }
  render();
}

openSpace(["commune"]).then(start, showLoadError);
