// The webhooks of one API client, on « Accès pour les logiciels » and the card maker's « Outils de l'État » (the same
// routes: the card maker manages those of the préfectures' and the ministry's clients): list (GET
// /api-clients/{id}/webhooks), add (POST: the signing secret is shown once, here), delete (DELETE …/{webhook_id}),
// and a webhook's delivery log (GET …/{webhook_id}/deliveries). Opened by the « Webhooks » button of a client's row
// (logiciels-acces.js).
import { api } from "../api.js";
import { WEBHOOK_EVENTS } from "../constants.js";
import {
  checkRequired, clearErrors, el, formatDateTime, hideAlert, onSubmit, showAlert, showFormError, whileBusy, copyOnClick } from "../ui.js";

const section = document.getElementById("webhooks");
const title = document.getElementById("webhooks-acces");
const list = document.getElementById("liste-webhooks");
const none = document.getElementById("aucun-webhook");
const alert = document.getElementById("alerte-webhooks");
const form = document.getElementById("form-webhook");
const secretPanel = document.getElementById("secret-webhook");
const secretField = document.getElementById("secret-webhook-valeur");
const copied = document.getElementById("secret-webhook-copie");
const journal = document.getElementById("journal-envois");
const journalTitle = document.getElementById("journal-webhook");
const journalRows = document.getElementById("liste-envois");
const journalNone = document.getElementById("aucun-envoi");
const journalMore = document.getElementById("envois-suivants");
const EVENT_LABELS = Object.fromEntries(WEBHOOK_EVENTS);
let client = null;
let journalCursor = null;
let journalHook = null;

// The four events as DSFR checkboxes, their labels from chalicelib/domain/webhooks.py (constants.js).
document.getElementById("choix-evenements").replaceChildren(...WEBHOOK_EVENTS.map(([event, label]) => {
  const id = `evenement-${event.replace(/[._]/g, "-")}`;
  return el("div", { class: "fr-fieldset__element" },
    el("div", { class: "fr-checkbox-group" },
      el("input", { type: "checkbox", id, name: "events", value: event }),
      el("label", { class: "fr-label", for: id }, label, el("span", { class: "fr-hint-text", text: event }))));
}));

const base = () => `/api-clients/${encodeURIComponent(client.client_id)}/webhooks`;

function stateBadge(hook) {
  return hook.disabled
    ? el("p", { class: "fr-badge fr-badge--sm", text: `Supprimé le ${formatDateTime(hook.disabled_at)}` })
    : el("p", { class: "fr-badge fr-badge--success fr-badge--sm", text: "Actif" });
}

function actionsCell(hook) {
  const cell = el("td");
  const log = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary", text: "Journal des envois",
    "aria-label": `Journal des envois vers ${hook.url}` });
  log.addEventListener("click", () => openJournal(hook));
  const items = [el("li", {}, log)];
  if (!hook.disabled) {
    const ask = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary", text: "Supprimer",
      "aria-label": `Supprimer le webhook ${hook.url}` });
    ask.addEventListener("click", () => {
      const confirm = el("button", { type: "button", class: "fr-btn fr-btn--sm", text: "Confirmer la suppression",
        "aria-label": `Confirmer la suppression du webhook ${hook.url}` });
      const cancel = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary", text: "Annuler" });
      confirm.addEventListener("click", () => remove(hook, confirm));
      cancel.addEventListener("click", () => { cell.replaceWith(actionsCell(hook)); });
      cell.replaceChildren(el("ul", { class: "fr-btns-group fr-btns-group--sm fr-btns-group--inline" },
        el("li", {}, confirm), el("li", {}, cancel)));
      confirm.focus();
    });
    items.push(el("li", {}, ask));
  }
  cell.append(el("ul", { class: "fr-btns-group fr-btns-group--sm fr-btns-group--inline" }, ...items));
  return cell;
}

function render(hooks) {
  none.hidden = hooks.length > 0;
  list.replaceChildren(...hooks.map((hook) => el("tr", { "data-webhook": hook.id },
    el("td", { class: "fr-text--sm", text: hook.url }),
    el("td", {}, el("ul", {}, hook.events.map((event) => el("li", { text: EVENT_LABELS[event] || event })))),
    el("td", { text: formatDateTime(hook.created_at) }),
    el("td", {}, stateBadge(hook)),
    actionsCell(hook),
  )));
}

async function load() {
  render((await api.get(base())).items);
}

async function remove(hook, button) {
  button.disabled = true;
  hideAlert(alert);
  try {
    await api.delete(`${base()}/${encodeURIComponent(hook.id)}`);
    await load();
    showAlert(alert, { type: "success", title: "Webhook supprimé",
      message: `Plus rien ne sera envoyé à ${hook.url}. Son journal des envois reste consultable.` });
  } catch (error) {
    button.disabled = false;
    showAlert(alert, { title: "Le webhook n'a pas été supprimé", message: error.message });
  }
}

function deliveryRow(delivery) {
  const badge = { delivered: "fr-badge--success", failed: "fr-badge--error", pending: "fr-badge--info" }[delivery.status];
  const last = delivery.last_http_status ?? delivery.last_error ?? "—";
  return el("tr", { "data-delivery": delivery.id },
    el("td", {}, el("span", { text: delivery.event_label }), el("br"),
      el("span", { class: "fr-text--xs", text: delivery.event_id })),
    el("td", { text: formatDateTime(delivery.created_at) }),
    el("td", {}, el("p", { class: `fr-badge fr-badge--sm ${badge || ""}`, text: delivery.status_label })),
    el("td", { text: String(delivery.attempts) }),
    el("td", { text: delivery.last_error && delivery.last_http_status != null
      ? `${delivery.last_http_status} (${delivery.last_error})` : String(last) }));
}

async function loadJournal(more = false) {
  const query = more && journalCursor ? `?cursor=${encodeURIComponent(journalCursor)}` : "";
  const page = await api.get(`${base()}/${encodeURIComponent(journalHook.id)}/deliveries${query}`);
  const rows = page.items.map(deliveryRow);
  if (more) journalRows.append(...rows); else journalRows.replaceChildren(...rows);
  journalNone.hidden = journalRows.children.length > 0;
  journalCursor = page.next;
  journalMore.hidden = !page.next;
}

async function openJournal(hook) {
  journalHook = hook;
  journalTitle.textContent = hook.url;
  journal.hidden = false;
  try {
    await loadJournal();
  } catch (error) {
    showAlert(alert, { title: "Le journal des envois n'a pas pu être chargé", message: error.message });
    return;
  }
  journal.focus();
}

journalMore.addEventListener("click", () => loadJournal(true).catch((error) => {
  showAlert(alert, { title: "La suite du journal n'a pas pu être chargée", message: error.message });
}));
document.getElementById("actualiser-envois").addEventListener("click", () => loadJournal().catch((error) => {
  showAlert(alert, { title: "Le journal des envois n'a pas pu être chargé", message: error.message });
}));

copyOnClick(document.getElementById("copier-secret-webhook"), secretField, copied);

onSubmit(form, async () => {
  clearErrors(form);
  if (!checkRequired(form)) return;
  const events = [...form.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
  if (!events.length) {
    showFormError(form, { code: "invalid_events", message: "Choisissez au moins un événement.",
      details: { events: "Choisissez au moins un événement." } }, { title: "Le formulaire est incomplet" });
    return;
  }
  await whileBusy(form, async () => {
    try {
      const created = await api.post(base(), { url: form.elements.namedItem("url").value.trim(), events });
      form.reset();
      await load();
      secretField.value = created.secret;
      copied.textContent = "";
      secretPanel.hidden = false;
      secretPanel.focus();
    } catch (error) {
      showFormError(form, error, { title: "Le webhook n'a pas été ajouté", fieldOfCode: { invalid_url: "url" } });
    }
  });
});

// Shows the webhooks of ``chosen`` (a client of the list), its form and, once asked, a webhook's log.
export async function openWebhooks(chosen) {
  client = chosen;
  title.textContent = chosen.name;
  hideAlert(alert);
  secretPanel.hidden = true;
  journal.hidden = true;
  form.hidden = chosen.revoked;
  document.getElementById("webhook-revoque").hidden = !chosen.revoked;
  section.hidden = false;
  try {
    await load();
  } catch (error) {
    showAlert(alert, { title: "Les webhooks n'ont pas pu être chargés", message: error.message });
  }
  section.focus();
}

// Hides the section and its secret: the list it belonged to is no longer shown (another owner was chosen).
export function closeWebhooks() {
  client = null;
  secretField.value = "";
  secretPanel.hidden = true;
  journal.hidden = true;
  section.hidden = true;
}
