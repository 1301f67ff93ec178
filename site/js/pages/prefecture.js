// Home of a préfecture agent: the orders of the département by status (GET /admin/orders, opened in
// gestion-demande.html for « Livrée en préfecture » and « Remise à l'élu »), the officials the communes declared
// before the national directory lists them (GET /prefecture/declarations?status=, validated or refused with a reason:
// POST /prefecture/declarations/{siren}/{official_id}/review), the cards to return (GET /admin/cards-to-return) and
// the monthly check (GET /admin/reports/monthly?month=).
import { api } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { personName } from "../commandes.js";
import { cardBadge } from "../cartes.js";
import { declarationBadge } from "../declarations.js";
import { addDownloads } from "../exports.js";
import { AdminOrders } from "../gestion.js";
import {
  $, checkRequired, clearErrors, el, formActions, formValues, formatDate, formatNumber, hideAlert, onSubmit,
  openFormRow, showAlert, showFormError, whileBusy,
} from "../ui.js";
import { de } from "../typography.js";

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

// --- officials declared by the communes ------------------------------------------------------------------------------

const declarationsForm = $("#form-declarations");
const declarationsAlert = $("#alerte-declarations");
const declarationsBody = $("#liste-declarations");
const DECLARATION_COLUMNS = 7;
// The filter's statuses: how the count and the empty list name them.
const DECLARATION_FILTERS = {
  pending: ["en attente de validation", "en attente de validation"],
  validated: ["validée", "validées"],
  refused: ["refusée", "refusées"],
};
let declarationsStatus = "pending";
let declarationsNext = null;
let declarationsShown = 0;

function declarationKey(item) {
  return `${item.siren}-${item.official_id}`;
}

function declarationName(item) {
  return personName(item);
}

function hint(text) {
  return el("span", { class: "fr-hint-text", text });
}

function proofCell(item) {
  if (!item.proof_url) return el("td", {}, el("span", { class: "app-muted fr-text--sm", text: "Non reçu" }));
  const name = declarationName(item);
  return el("td", {}, el("a", { class: "fr-link fr-text--sm fr-icon-file-pdf-line fr-link--icon-left", href: item.proof_url,
    target: "_blank", rel: "noopener", text: "Voir le procès-verbal (PDF)",
    "aria-label": `Voir le procès-verbal (PDF) ${de(name)} — nouvelle fenêtre`,
    title: `Voir le procès-verbal (PDF) ${de(name)} — nouvelle fenêtre` }));
}

function decisionCell(item) {
  const cell = el("td", { class: "fr-cell--multiline" });
  if (item.status !== "pending") {
    cell.append(declarationBadge(item));
    if (item.status === "refused" && item.reason) {
      cell.append(el("p", { class: "app-why fr-mt-1w", text: `Motif\u00a0: ${item.reason}` }));
    }
    return cell;
  }
  const name = declarationName(item);
  const validate = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-icon-check-line fr-btn--icon-left",
    text: "Valider", "aria-label": `Valider la déclaration ${de(name)}` });
  const refuse = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary fr-icon-close-line fr-btn--icon-left",
    text: "Refuser", "aria-label": `Refuser la déclaration ${de(name)}`, "aria-expanded": "false",
    "aria-controls": `refus-${declarationKey(item)}` });
  validate.addEventListener("click", () => review(item, "validate", null, validate));
  refuse.addEventListener("click", () => askRefusal(item, refuse));
  cell.append(el("ul", { class: "app-actions" }, el("li", {}, validate), el("li", {}, refuse)));
  return cell;
}

function declarationRow(item) {
  const overdue = item.overdue ? el("p", { class: "fr-badge fr-badge--sm fr-badge--warning fr-mt-1w",
    text: `Toujours absent${item.sex === "F" ? "e" : ""} du répertoire après 90 jours` }) : null;
  return el("tr", { "data-declaration": declarationKey(item) },
    el("th", { scope: "row" }, `${item.last_name} ${item.first_name}`,
      hint(`${item.sex === "F" ? "Née" : "Né"} le ${formatDate(item.birth_date)}`)),
    el("td", {}, item.commune_label, hint(`INSEE ${item.insee_code}`)),
    el("td", { text: item.function_label }),
    el("td", { text: formatDate(item.election_date) }),
    el("td", { class: "fr-cell--multiline" }, formatDate(item.declared_at), overdue),
    proofCell(item),
    decisionCell(item));
}

/** The refusal's form, in a row under the declaration: the reason is required (the commune receives it). */
function askRefusal(item, button) {
  const key = declarationKey(item);
  const name = declarationName(item);
  const alertId = `refus-alerte-${key}`;
  const form = openFormRow(button, `refus-${key}`, () => el("form", { method: "post", noValidate: true, "data-alert": alertId },
    el("div", { id: alertId, tabindex: "-1", hidden: true, "data-heading": "h3" }),
    el("div", { class: "fr-input-group app-reason" },
      el("label", { class: "fr-label", for: `refus-motif-${key}` }, `Motif du refus de la déclaration ${de(name)}`,
        hint("Obligatoire\u00a0: il est communiqué à la commune (par exemple «\u00a0le procès-verbal ne mentionne pas cet élu\u00a0»).")),
      el("textarea", { class: "fr-input", id: `refus-motif-${key}`, name: "reason", rows: 3, maxLength: 500, required: true })),
    formActions({ class: "fr-btn fr-btn--sm fr-icon-close-line fr-btn--icon-left", text: "Confirmer le refus",
      "aria-label": `Confirmer le refus de la déclaration ${de(name)}` })));
  if (!form) return;
  onSubmit(form, async () => {
    clearErrors(form);
    const { reason } = formValues(form);
    if (!reason) {
      showFormError(form, { code: "invalid_request", message: "Indiquez le motif du refus\u00a0: la commune le recevra.",
        details: { reason: "Indiquez le motif du refus." } }, { title: "La déclaration n'a pas été refusée" });
      return;
    }
    await whileBusy(form, () => review(item, "refuse", reason, null, form));
  });
}

/** Validate or refuse one declaration, then show the list again with what was done. */
async function review(item, decision, reason, button, form = null) {
  const name = declarationName(item);
  hideAlert(declarationsAlert);
  if (button) button.disabled = true;
  try {
    await api.post(`/prefecture/declarations/${encodeURIComponent(item.siren)}/${encodeURIComponent(item.official_id)}/review`,
      decision === "refuse" ? { decision, reason } : { decision });
  } catch (error) {
    if (button) button.disabled = false;
    const title = decision === "refuse" ? "La déclaration n'a pas été refusée" : "La déclaration n'a pas été validée";
    if (form && error.code === "invalid_request") {
      showFormError(form, error, { title, fieldOfCode: { invalid_request: "reason" } });
      return;
    }
    if (["declaration_not_pending", "not_found"].includes(error.code)) {
      await showDeclarations().catch(() => {});
    }
    showAlert(declarationsAlert, { title, message: error.message });
    return;
  }
  await showDeclarations().catch(() => {});
  showAlert(declarationsAlert, decision === "refuse"
    ? { type: "success", title: `Déclaration ${de(name)} (${item.commune_label}) refusée`,
      message: "La commune est informée par courriel du motif du refus\u00a0; la carte de l'élu ne peut pas être commandée." }
    : { type: "success", title: `Déclaration ${de(name)} (${item.commune_label}) validée`,
      message: `La commune en est informée par courriel\u00a0: elle peut commander la carte ${de(name)}.` });
}

function sayDeclarationCount(status, more) {
  const [one, many] = DECLARATION_FILTERS[status] || [status, status];
  $("#nombre-declarations").textContent = declarationsShown
    ? `${declarationsShown} déclaration${declarationsShown > 1 ? `s ${many}` : ` ${one}`}${more ? " affichées (il y en a d'autres)" : ""}.`
    : `Aucune déclaration ${one}.`;
}

async function showDeclarations({ append = false } = {}) {
  const query = new URLSearchParams({ status: declarationsStatus });
  if (append && declarationsNext) query.set("cursor", declarationsNext);
  const page = await api.get(`/prefecture/declarations?${query}`);
  const rows = page.items.map(declarationRow);
  if (append) {
    declarationsBody.append(...rows);
    declarationsShown += rows.length;
  } else {
    declarationsShown = rows.length;
    declarationsBody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colSpan: DECLARATION_COLUMNS,
      text: `Aucune déclaration ${DECLARATION_FILTERS[declarationsStatus]?.[0] || ""}.` }))]));
  }
  declarationsNext = page.next;
  $("#bouton-plus-declarations").hidden = !page.next;
  sayDeclarationCount(declarationsStatus, Boolean(page.next));
  return page;
}

onSubmit(declarationsForm, () => whileBusy(declarationsForm, async () => {
  clearErrors(declarationsForm);
  declarationsStatus = formValues(declarationsForm).status || "pending";
  try {
    await showDeclarations();
  } catch (error) {
    showFormError(declarationsForm, error, { title: "Les déclarations n'ont pas pu être affichées" });
  }
}));

$("#bouton-plus-declarations").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    const page = await showDeclarations({ append: true });
    const first = page.items.length
      ? declarationsBody.querySelector(`tr[data-declaration="${CSS.escape(declarationKey(page.items[0]))}"] th`) : null;
    if (first) { // the first declaration added, for keyboard and screen reader users
      first.setAttribute("tabindex", "-1");
      first.focus();
    }
  } catch (error) {
    showAlert(declarationsAlert, { title: "La suite de la liste n'a pas pu être chargée", message: error.message });
  } finally {
    button.disabled = false;
  }
});

// --- cards to return -------------------------------------------------------------------------------------------------

let returnsNext = null;

function returnRow(card) {
  return el("tr", {},
    el("th", { scope: "row" }, el("a", { href: `prefecture-cartes.html?numero=${encodeURIComponent(card.number)}`,
      text: card.number, "aria-label": `Ouvrir la carte n°\u00a0${card.number}` })),
    el("td", { text: card.commune_name }),
    el("td", {}, `${card.last_name} ${card.first_name}`, el("span", { class: "fr-hint-text", text: card.function_label })),
    el("td", { class: "fr-cell--multiline", text: card.history.at(-1)?.note || "" }),
    el("td", {}, cardBadge(card)));
}

async function showReturns(append = false) {
  const query = append && returnsNext ? `?cursor=${encodeURIComponent(returnsNext)}` : "";
  const page = await api.get(`/admin/cards-to-return${query}`);
  const rows = page.items.map(returnRow);
  const body = $("#liste-restitution");
  if (append) body.append(...rows);
  else body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colSpan: 5,
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
    $("#controle-legende").textContent = de(name);
    $("#liste-controle").replaceChildren(...(report.communes.length
      ? report.communes.map((row) => el("tr", {}, el("th", { scope: "row", text: row.commune_name }),
        el("td", { text: row.siren }), ...numbers(row)))
      : [el("tr", {}, el("td", { colSpan: 6, text: `Aucune carte commandée, livrée, remise ou rejetée en ${name}.` }))]));
    const totals = report.totals || {};
    $("#controle-totaux").replaceChildren(...(report.communes.length
      ? [el("tr", {}, el("th", { scope: "row", text: "Total du département" }), el("td", { text: "" }), ...numbers(totals))]
      : []));
    $("#controle-resume").textContent = `Contrôle ${de(name)}, département ${report.department_code}\u00a0: `
      + `${formatNumber(totals.ordered)} carte(s) commandée(s), ${formatNumber(totals.delivered)} livrée(s), `
      + `${formatNumber(totals.handed_over)} remise(s), ${formatNumber(totals.rejected)} rejetée(s).`;
  } catch (error) {
    showFormError(monthForm, error, { title: "Le contrôle mensuel n'a pas pu être affiché",
      fieldOfCode: { invalid_request: "month" } });
  }
}

onSubmit(monthForm, () => whileBusy(monthForm, () => showMonth()));
addDownloads($("#liste-declarations"), "/prefecture/exports/declarations", () => ({ status: declarationsStatus }));
addDownloads($("#liste-restitution"), "/admin/exports/cards-to-return");
addDownloads($("#liste-controle"), "/admin/exports/monthly-report", () => ({ month: formValues(monthForm).month }));

openSpace(["prefecture"]).then(async () => {
  await Promise.all([
    showOrders(),
    showDeclarations().catch((error) => showAlert(declarationsAlert, {
      title: "Les élus déclarés n'ont pas pu être chargés", message: error.message, focus: false })),
    showReturns().catch((error) => showAlert($("#alerte-restitution"), {
      title: "Les cartes à restituer n'ont pas pu être chargées", message: error.message, focus: false })),
    showMonth({ current: true }),
  ]);
}, showLoadError);
