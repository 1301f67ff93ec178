// The API clients (OAuth 2.0 client credentials) of one owner, in the panels of site-src/partials/api-clients.html:
// the list, the form that creates one (its secret is shown once, here), revocation after a confirmation, and each
// client's webhooks (logiciels-webhooks.js). Shared by the commune's « Accès pour les logiciels » (logiciels.js) and
// the card maker's « Outils de l'État » (fabricant-logiciels.js), which differ only in whose clients they are.
import { api } from "../api.js";
import { closeWebhooks, openWebhooks } from "./logiciels-webhooks.js";
import {
  checkRequired, clearErrors, el, formatDate, hideAlert, onSubmit, showAlert, showFormError, whileBusy, copyOnClick } from "../ui.js";

const form = document.getElementById("form-acces");
const list = document.getElementById("liste-acces");
const none = document.getElementById("aucun-acces");
const listAlert = document.getElementById("alerte-liste");
const secretPanel = document.getElementById("secret-cree");
const secretField = document.getElementById("secret-valeur");
const copied = document.getElementById("secret-copie");

function stateBadge(client) {
  return client.revoked
    ? el("p", { class: "fr-badge fr-badge--error fr-badge--sm", text: `Révoqué le ${formatDate(client.revoked_at)}` })
    : el("p", { class: "fr-badge fr-badge--success fr-badge--sm", text: "Actif" });
}

function webhooksCell(client) {
  const open = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary", text: "Webhooks",
    "aria-label": `Webhooks et journal des envois de l'accès « ${client.name} »` });
  open.addEventListener("click", () => openWebhooks(client));
  return el("td", {}, open);
}

/**
 * Wires the panels for the clients of `owner`:
 * - scopes: the [scope, label] pairs the form offers as checkboxes (constants.js);
 * - list(): the page of clients (GET); create(name, scopes): the new client with its secret (POST);
 * - revokePath(client): the path of its DELETE; revokedMessage(client): what the page says once it is revoked.
 * Returns show(), which reads the list again (the owner may have changed; false when it could not, said in the
 * list's alert), and reset(), which hides what belonged to the previous owner's list (a secret, a client's webhooks,
 * a message).
 */
export function manageClients(owner) {
  const labels = Object.fromEntries(owner.scopes);

  document.getElementById("choix-autorisations").replaceChildren(...owner.scopes.map(([scope, label]) => {
    const id = `autorisation-${scope.replace(":", "-")}`;
    return el("div", { class: "fr-fieldset__element" },
      el("div", { class: "fr-checkbox-group" },
        el("input", { type: "checkbox", id, name: "scopes", value: scope }),
        el("label", { class: "fr-label", for: id }, label, el("span", { class: "fr-hint-text", text: scope }))));
  }));

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

  function render(clients) {
    none.hidden = clients.length > 0;
    list.replaceChildren(...clients.map((client) => el("tr", { "data-client": client.client_id },
      el("td", {}, el("span", { text: client.name }), el("br"),
        el("span", { class: "fr-text--xs", text: `Identifiant : ${client.client_id}` })),
      el("td", {}, el("ul", {}, client.scopes.map((scope) => el("li", { text: labels[scope] || scope })))),
      el("td", { text: formatDate(client.created_at) }),
      el("td", {}, stateBadge(client)),
      webhooksCell(client),
      revokeCell(client),
    )));
  }

  async function load() {
    render((await owner.list()).items);
  }

  async function revoke(client, button) {
    button.disabled = true;
    hideAlert(listAlert);
    try {
      await api.delete(owner.revokePath(client));
      await load();
      showAlert(listAlert, { type: "success", title: "Accès révoqué", message: owner.revokedMessage(client) });
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
        const created = await owner.create(form.elements.namedItem("name").value.trim(), scopes);
        form.reset();
        await load();
        showSecret(created);
      } catch (error) {
        showFormError(form, error, { title: "L'accès n'a pas été créé", fieldOfCode: { invalid_name: "name" } });
      }
    });
  });

  return {
    async show() {
      try {
        await load();
        return true;
      } catch (error) {
        render([]);
        none.hidden = true;
        showAlert(listAlert, { title: "La liste des accès n'a pas pu être chargée", message: error.message });
        return false;
      }
    },
    reset() {
      hideAlert(listAlert);
      secretField.value = "";  // a secret is for the owner it was created for: not left on the page for the next
      secretPanel.hidden = true;
      clearErrors(form);
      closeWebhooks();
    },
  };
}
