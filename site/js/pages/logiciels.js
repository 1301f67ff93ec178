// "Accès pour les logiciels": a commune's API clients (OAuth 2.0 client credentials) — list (GET /api-clients),
// create (POST /api-clients: the secret is shown once, here), revoke (DELETE /api-clients/{client_id}); each client's
// webhooks and their delivery log (logiciels-webhooks.js).
import { api } from "../api.js";
import { API_SCOPES } from "../constants.js";
import { openSpace, showLoadError } from "../espace.js";
import { openWebhooks } from "./logiciels-webhooks.js";
import {
  checkRequired, clearErrors, el, formatDate, hideAlert, onSubmit, showAlert, showFormError, whileBusy, copyOnClick } from "../ui.js";

const form = document.getElementById("form-acces");
const list = document.getElementById("liste-acces");
const none = document.getElementById("aucun-acces");
const listAlert = document.getElementById("alerte-liste");
const secretPanel = document.getElementById("secret-cree");
const secretField = document.getElementById("secret-valeur");
const copied = document.getElementById("secret-copie");
const SCOPE_LABELS = Object.fromEntries(API_SCOPES);

// The four scopes as DSFR checkboxes, their labels from chalicelib/domain/api_clients.py (constants.js).
document.getElementById("choix-autorisations").replaceChildren(...API_SCOPES.map(([scope, label]) => {
  const id = `autorisation-${scope.replace(":", "-")}`;
  return el("div", { class: "fr-fieldset__element" },
    el("div", { class: "fr-checkbox-group" },
      el("input", { type: "checkbox", id, name: "scopes", value: scope }),
      el("label", { class: "fr-label", for: id }, label, el("span", { class: "fr-hint-text", text: scope }))));
}));

function stateBadge(client) {
  return client.revoked
    ? el("p", { class: "fr-badge fr-badge--error fr-badge--sm", text: `Révoqué le ${formatDate(client.revoked_at)}` })
    : el("p", { class: "fr-badge fr-badge--success fr-badge--sm", text: "Actif" });
}

function revokeCell(client) {
  const cell = el("td");
  if (client.revoked) return cell;
  const ask = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary", text: "Révoquer",
    "aria-label": `Révoquer l'accès « ${client.name} »` });
  ask.addEventListener("click", () => {
    const confirm = el("button", { type: "button", class: "fr-btn fr-btn--sm", text: "Confirmer la révocation",
      "aria-label": `Confirmer la révocation de l'accès « ${client.name} »` });
    const cancel = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary", text: "Annuler" });
    confirm.addEventListener("click", () => revoke(client, confirm));
    cancel.addEventListener("click", () => { cell.replaceWith(revokeCell(client)); });
    cell.replaceChildren(el("ul", { class: "fr-btns-group fr-btns-group--sm fr-btns-group--inline" },
      el("li", {}, confirm), el("li", {}, cancel)));
    confirm.focus();
  });
  cell.append(ask);
  return cell;
}

function webhooksCell(client) {
  const open = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary", text: "Webhooks",
    "aria-label": `Webhooks et journal des envois de l'accès « ${client.name} »` });
  open.addEventListener("click", () => openWebhooks(client));
  return el("td", {}, open);
}

function render(clients) {
  none.hidden = clients.length > 0;
  list.replaceChildren(...clients.map((client) => el("tr", { "data-client": client.client_id },
    el("td", {}, el("span", { text: client.name }), el("br"),
      el("span", { class: "fr-text--xs", text: `Identifiant : ${client.client_id}` })),
    el("td", {}, el("ul", {}, client.scopes.map((scope) => el("li", { text: SCOPE_LABELS[scope] || scope })))),
    el("td", { text: formatDate(client.created_at) }),
    el("td", {}, stateBadge(client)),
    webhooksCell(client),
    revokeCell(client),
  )));
}

async function load() {
  const page = await api.get("/api-clients");
  render(page.items);
}

async function revoke(client, button) {
  button.disabled = true;
  hideAlert(listAlert);
  try {
    await api.delete(`/api-clients/${encodeURIComponent(client.client_id)}`);
    await load();
    showAlert(listAlert, { type: "success", title: "Accès révoqué",
      message: `Le logiciel « ${client.name} » n'a plus accès aux données de la commune.` });
  } catch (error) {
    button.disabled = false;
    showAlert(listAlert, { title: "L'accès n'a pas été révoqué", message: error.message });
  }
}

function showSecret(created) {
  document.getElementById("identifiant-cree").value = created.client_id;
  secretField.value = created.client_secret;
  copied.textContent = "";
  secretPanel.hidden = false;
  secretPanel.focus();
}

copyOnClick(document.getElementById("copier-secret"), secretField, copied);

onSubmit(form, async () => {
  clearErrors(form);
  if (!checkRequired(form)) return;
  const scopes = [...form.querySelectorAll("input[name=scopes]:checked")].map((box) => box.value);
  if (!scopes.length) {
    showFormError(form, { code: "invalid_scope", message: "Choisissez au moins une autorisation.",
      details: { scopes: "Choisissez au moins une autorisation." } }, { title: "Le formulaire est incomplet" });
    return;
  }
  await whileBusy(form, async () => {
    try {
      const created = await api.post("/api-clients", { name: form.elements.namedItem("name").value.trim(), scopes });
      form.reset();
      await load();
      showSecret(created);
    } catch (error) {
      showFormError(form, error, { title: "L'accès n'a pas été créé", fieldOfCode: { invalid_name: "name" } });
    }
  });
});

openSpace(["commune"]).then(async () => {
  try {
    await load();
  } catch (error) {
    showAlert(listAlert, { title: "La liste des accès n'a pas pu être chargée", message: error.message });
  }
}, showLoadError);
