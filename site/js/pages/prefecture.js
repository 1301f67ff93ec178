// Home of a préfecture agent: the orders of the département by status (GET /admin/orders, opened in
// gestion-demande.html for « Livrée en préfecture » and « Remise à l'élu »), the cards to return
// (GET /admin/cards-to-return) and the monthly check (GET /admin/reports/monthly?month=).
import { api } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { cardNames, orderName, personName, statusBadge } from "../commandes.js";
import { AdminOrders } from "../gestion.js";
import {
  $, checkRequired, clearErrors, el, formValues, formatNumber, onSubmit, showAlert, showFormError, whileBusy,
} from "../ui.js";

const statusForm = $("#form-statut");
const monthForm = $("#form-mois");
const orders = new AdminOrders({ tbody: $("#liste-demandes"), more: $("#bouton-plus"), count: $("#nombre-demandes"),
  alert: $("#alerte-demandes"), columns: 6 });
const MONTH = new Intl.DateTimeFormat("fr-FR", { month: "long", year: "numeric", timeZone: "UTC" });

async function showOrders() {
  clearErrors(statusForm);
  try {
    await orders.show(formValues(statusForm).status);
  } catch (error) {
    showFormError(statusForm, error, { title: "Les demandes n'ont pas pu être affichées" });
  }
}

onSubmit(statusForm, () => whileBusy(statusForm, showOrders));

// --- cards to return -------------------------------------------------------------------------------------------------

let returnsNext = null;

function returnRow(order) {
  const names = new Map(order.cards.map((card) => [card.official_id, personName(card)]));
  const alerts = (order.alerts || []).filter((alert) => alert.code === "card_to_return");
  return el("tr", {},
    el("th", { scope: "row", text: order.commune_name || order.siren }),
    el("td", { class: "fr-cell--multiline" }, alerts.length
      ? el("ul", {}, alerts.map((alert) => el("li", {}, `${names.get(alert.official_id) || ""}\u00a0: ${alert.message}`)))
      : cardNames(order)),
    el("td", {}, el("a", { href: `gestion-demande.html?id=${encodeURIComponent(order.id)}`, text: orderName(order) })),
    el("td", {}, statusBadge(order)));
}

async function showReturns(append = false) {
  const query = append && returnsNext ? `?cursor=${encodeURIComponent(returnsNext)}` : "";
  const page = await api.get(`/admin/cards-to-return${query}`);
  const rows = page.items.map(returnRow);
  const body = $("#liste-restitution");
  if (append) body.append(...rows);
  else body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colSpan: 4,
    text: "Aucune carte à restituer." }))]));
  returnsNext = page.next;
  $("#bouton-plus-restitution").hidden = !page.next;
}

$("#bouton-plus-restitution").addEventListener("click", async (event) => {
  event.currentTarget.disabled = true;
  try {
    await showReturns(true);
  } catch (error) {
    showAlert($("#alerte-restitution"), { title: "La suite de la liste n'a pas pu être chargée", message: error.message });
  } finally {
    event.currentTarget.disabled = false;
  }
});

// --- monthly check ---------------------------------------------------------------------------------------------------

function monthName(month) {
  const [year, number] = month.split("-").map(Number);
  return MONTH.format(new Date(Date.UTC(year, number - 1, 1)));
}

function numbers(row) {
  return [row.ordered, row.delivered, row.handed_over, row.rejected].map((value) => el("td", { text: formatNumber(value) }));
}

/** The monthly check of the month typed, or of the current month (the service's) when the page opens. */
async function showMonth({ current = false } = {}) {
  clearErrors(monthForm);
  if (!current && !checkRequired(monthForm)) return;
  const { month } = formValues(monthForm);
  if (!current && !/^\d{4}-\d{2}$/.test(month)) {
    showFormError(monthForm, { code: "invalid_request", message: "Le mois n'est pas valide.",
      details: { month: "Indiquez le mois au format AAAA-MM, par exemple 2026-05." } });
    return;
  }
  try {
    const report = await api.get(`/admin/reports/monthly${current ? "" : `?month=${encodeURIComponent(month)}`}`);
    if (current) monthForm.elements.namedItem("month").value = report.month;
    const name = monthName(report.month);
    $("#controle-legende").textContent = `de ${name}`;
    $("#liste-controle").replaceChildren(...(report.communes.length
      ? report.communes.map((row) => el("tr", {}, el("th", { scope: "row", text: row.commune_name }),
        el("td", { text: row.siren }), ...numbers(row)))
      : [el("tr", {}, el("td", { colSpan: 6, text: `Aucune carte commandée, livrée, remise ou rejetée en ${name}.` }))]));
    const totals = report.totals || {};
    $("#controle-totaux").replaceChildren(...(report.communes.length
      ? [el("tr", {}, el("th", { scope: "row", text: "Total du département" }), el("td", { text: "" }), ...numbers(totals))]
      : []));
    $("#controle-resume").textContent = `Contrôle de ${name}, département ${report.department_code}\u00a0: `
      + `${formatNumber(totals.ordered)} carte(s) commandée(s), ${formatNumber(totals.delivered)} livrée(s), `
      + `${formatNumber(totals.handed_over)} remise(s), ${formatNumber(totals.rejected)} rejetée(s).`;
  } catch (error) {
    showFormError(monthForm, error, { title: "Le contrôle mensuel n'a pas pu être affiché",
      fieldOfCode: { invalid_request: "month" } });
  }
}

onSubmit(monthForm, () => whileBusy(monthForm, () => showMonth()));

openSpace(["prefecture"]).then(async () => {
  await Promise.all([
    showOrders(),
    showReturns().catch((error) => showAlert($("#alerte-restitution"), {
      title: "Les cartes à restituer n'ont pas pu être chargées", message: error.message, focus: false })),
    showMonth({ current: true }),
  ]);
}, showLoadError);
