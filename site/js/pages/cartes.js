// « Cartes »: the commune's cards and their status (GET /cards?status=, pages with ?cursor=), those to return to the
// préfecture (GET /cards?status=a_restituer), and « Déclarer une perte ou un vol » on a card in use
// (POST /cards/{number}/declarations): the card is void for good, the préfecture is told, a new card can be ordered.
import { api } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { addDownloads } from "../exports.js";
import { CARD_STATUSES, cardBadge, cardName, handOverText } from "../cartes.js";
import { confirmMove } from "../confirmation.js";
import {
  $, checkRequired, clearErrors, el, formActions, formValues, hideAlert, openFormRow, onSubmit, showAlert, showFormError, whileBusy,
} from "../ui.js";

const COLUMNS = 6;
const list = $("#liste-cartes");
const listAlert = $("#alerte-cartes");
const filter = $("#form-filtre");
const more = $("#bouton-plus");
const count = $("#nombre-cartes");
let status = "";
let next = null;
let shown = 0;
addDownloads(list, "/exports/cards", () => ({ status }));

for (const [code, label] of CARD_STATUSES) {
  $("#filtre-statut").append(el("option", { value: code, text: label }));
}

function hint(text) {
  return el("span", { class: "fr-hint-text", text });
}

function undoButton(card) {
  const button = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary fr-icon-arrow-go-back-line fr-btn--icon-left",
    text: "Annuler la déclaration", "aria-label": `Annuler la déclaration\u00a0: ${cardName(card)}` });
  button.addEventListener("click", async () => {
    const sure = await confirmMove({ title: "Annuler la déclaration", confirmLabel: "Annuler la déclaration",
      message: `La déclaration «\u00a0${card.status_label}\u00a0» de la ${cardName(card)} est annulée\u00a0: la carte est de nouveau utilisable.` });
    if (!sure) return;
    button.disabled = true;
    try {
      const back = await api.post(`/cards/${encodeURIComponent(card.number)}/undo`, {});
      await load();
      showAlert(listAlert, { type: "success", title: `Déclaration annulée\u00a0: carte n°\u00a0${back.number}`,
        message: `La carte est de nouveau «\u00a0${back.status_label}\u00a0».` });
    } catch (error) {
      button.disabled = false;
      showAlert(listAlert, { title: "La déclaration n'a pas été annulée", message: error.message });
    }
  });
  return button;
}

function actionsCell(card) {
  const cell = el("td", { class: "fr-cell--multiline" });
  if (card.undo) cell.append(undoButton(card));
  if (!card.actions.includes("declare")) return cell;
  const button = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary fr-icon-alert-line fr-btn--icon-left",
    text: "Déclarer une perte ou un vol", "aria-label": `Déclarer une perte ou un vol\u00a0: ${cardName(card)}`,
    "aria-expanded": "false", "aria-controls": `declaration-${card.number}` });
  button.addEventListener("click", () => askDeclaration(card, button));
  cell.append(button);
  return cell;
}

function row(card) {
  return el("tr", { "data-carte": card.number },
    el("th", { scope: "row", text: card.number }),
    el("td", {}, `${card.last_name} ${card.first_name}`, hint(card.function_label)),
    el("td", {}, cardBadge(card)),
    el("td", {}, card.reason_label, card.replaces ? hint(`Remplace la carte n°\u00a0${card.replaces}`) : null),
    el("td", { class: "fr-cell--multiline", text: handOverText(card) }),
    actionsCell(card));
}

/** The declaration's form, in a row under the card: a loss or a theft, its date, what happened; the police report's
 * reference for a theft. */
function askDeclaration(card, button) {
  const key = card.number;
  const alertId = `declaration-alerte-${key}`;
  const today = new Date().toISOString().slice(0, 10);
  const radio = (value, label) => el("div", { class: "fr-fieldset__element fr-fieldset__element--inline" },
    el("div", { class: "fr-radio-group" },
      el("input", { type: "radio", id: `declaration-${key}-${value}`, name: "kind", value, required: true }),
      el("label", { class: "fr-label", for: `declaration-${key}-${value}`, text: label })));
  const form = openFormRow(button, `declaration-${key}`, () => el("form", { method: "post", noValidate: true, "data-alert": alertId },
    el("div", { id: alertId, tabindex: "-1", hidden: true, "data-heading": "h3" }),
    el("fieldset", { class: "fr-fieldset", id: `declaration-${key}-nature` },
      el("legend", { class: "fr-fieldset__legend fr-fieldset__legend--regular", text: `Nature de la déclaration pour la ${cardName(card)}` }),
      radio("perte", "Perte"), radio("vol", "Vol")),
    el("div", { class: "fr-input-group" },
      el("label", { class: "fr-label", for: `declaration-${key}-date` }, "Date de la perte ou du vol",
        hint("Au format jj/mm/aaaa.")),
      el("input", { class: "fr-input", type: "date", id: `declaration-${key}-date`, name: "date", max: today, required: true })),
    el("div", { class: "fr-input-group" },
      el("label", { class: "fr-label", for: `declaration-${key}-circonstances` }, "Circonstances",
        hint("Où et comment la carte a été perdue ou volée.")),
      el("textarea", { class: "fr-input", id: `declaration-${key}-circonstances`, name: "circumstances", rows: 3,
        maxLength: 2000, required: true })),
    el("div", { class: "fr-input-group" },
      el("label", { class: "fr-label", for: `declaration-${key}-plainte` }, "Référence du dépôt de plainte",
        hint("Obligatoire en cas de vol (récépissé de plainte du commissariat ou de la gendarmerie).")),
      el("input", { class: "fr-input", type: "text", id: `declaration-${key}-plainte`, name: "police_report", maxLength: 100 })),
    formActions({ text: "Enregistrer la déclaration" })));
  if (!form) return;
  onSubmit(form, async () => {
    clearErrors(form);
    if (!checkRequired(form, { title: "La déclaration n'a pas été enregistrée" })) return;
    const values = formValues(form);
    if (!values.kind) {
      showFormError(form, { code: "invalid_request", message: "Indiquez s'il s'agit d'une perte ou d'un vol.",
        details: { kind: "Indiquez s'il s'agit d'une perte ou d'un vol." } }, { title: "La déclaration n'a pas été enregistrée" });
      return;
    }
    if (values.kind === "vol" && !values.police_report) {
      showFormError(form, { code: "invalid_request", message: "Indiquez la référence du dépôt de plainte (obligatoire pour un vol).",
        details: { police_report: "Indiquez la référence du dépôt de plainte (obligatoire pour un vol)." } },
      { title: "La déclaration n'a pas été enregistrée" });
      return;
    }
    const body = { kind: values.kind, date: values.date, circumstances: values.circumstances };
    if (values.police_report) body.police_report = values.police_report;
    await whileBusy(form, async () => {
      try {
        const declared = await api.post(`/cards/${encodeURIComponent(card.number)}/declarations`, body);
        await load();
        showAlert(listAlert, { type: "success", title: `Carte n°\u00a0${declared.number} déclarée ${declared.status_label.toLowerCase()}`,
          message: `La préfecture est prévenue\u00a0; la carte ne peut plus être utilisée. Vous pouvez commander une nouvelle carte pour ${declared.first_name} ${declared.last_name}\u00a0: le motif «\u00a0${values.kind === "vol" ? "Vol" : "Perte"}\u00a0» sera retenu.`,
          extra: el("p", {}, el("a", { class: "fr-link", href: "demande-nouvelle.html", text: "Commander une nouvelle carte" })) });
      } catch (error) {
        showFormError(form, error, { title: "La déclaration n'a pas été enregistrée" });
      }
    });
  });
}

function label(code) {
  return (CARD_STATUSES.find(([value]) => value === code) || [code, code])[1];
}

function render(page, append) {
  const rows = page.items.map(row);
  if (append) list.append(...rows);
  else if (rows.length) list.replaceChildren(...rows);
  else {
    list.replaceChildren(el("tr", {}, el("td", { colSpan: COLUMNS, text: status
      ? `Aucune carte «\u00a0${label(status)}\u00a0».`
      : "Aucune carte pour l'instant\u00a0: une carte figure ici dès sa fabrication." })));
  }
  shown = (append ? shown : 0) + page.items.length;
  next = page.next;
  more.hidden = !next;
  count.textContent = shown ? `${shown} carte${shown > 1 ? "s" : ""}${status ? ` «\u00a0${label(status)}\u00a0»` : ""}${next ? " affichées (il y en a d'autres)" : ""}.` : "";
}

async function load({ append = false } = {}) {
  const query = new URLSearchParams();
  if (status) query.set("status", status);
  if (append && next) query.set("cursor", next);
  const page = await api.get(`/cards?${query}`);
  render(page, append);
  return page;
}

async function showToReturn() {
  const page = await api.get("/cards?status=a_restituer");
  const box = $("#cartes-a-restituer");
  box.hidden = !page.items.length;
  if (page.items.length) {
    $("#cartes-a-restituer-texte").textContent = `${page.items.map((card) => `n°\u00a0${card.number} (${card.first_name} ${card.last_name}, ${card.history.at(-1).note || "à restituer"})`).join("\u00a0; ")}. Rapportez ${page.items.length > 1 ? "ces cartes" : "cette carte"} à la préfecture du département.`;
  }
}

onSubmit(filter, async () => {
  status = formValues(filter).status || "";
  hideAlert(listAlert);
  await whileBusy(filter, async () => {
    try {
      await load();
    } catch (error) {
      showAlert(listAlert, { title: "Les cartes n'ont pas pu être affichées", message: error.message });
    }
  });
});

more.addEventListener("click", async () => {
  more.disabled = true;
  try {
    const page = await load({ append: true });
    if (page.items.length) list.querySelector(`tr[data-carte="${CSS.escape(page.items[0].number)}"] th`)?.focus();
  } catch (error) {
    showAlert(listAlert, { title: "Les cartes suivantes n'ont pas pu être chargées", message: error.message });
  } finally {
    more.disabled = false;
  }
});

openSpace(["commune"]).then(async () => {
  try {
    await Promise.all([load(), showToReturn()]);
  } catch (error) {
    showAlert(listAlert, { title: "Les cartes n'ont pas pu être chargées", message: error.message });
  }
}, showLoadError);
