// "Agents de la commune": list (GET /agents), add (POST /agents), remove (DELETE /agents/{id}).
import { api } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { addDownloads } from "../exports.js";
import {
  checkRequired, clearErrors, el, formValues, hideAlert, onSubmit, showAlert, showFormError, whileBusy,
} from "../ui.js";
import { de } from "../typography.js";

const form = document.getElementById("form-agent");
const list = document.getElementById("liste-agents");
const listAlert = document.getElementById("alerte-liste");
addDownloads(list, "/exports/agents");
let me = null;

function badge(agent) {
  return agent.password_set
    ? el("p", { class: "fr-badge fr-badge--success fr-badge--sm", text: "Actif" })
    : el("p", { class: "fr-badge fr-badge--info fr-badge--sm", text: "Invitation envoyée" });
}

function removeCell(agent) {
  const cell = el("td");
  if (agent.email === me.email) {
    cell.append(el("span", { class: "fr-text--sm", text: "Vous" }));
    return cell;
  }
  const name = `${agent.first_name} ${agent.last_name}`;
  const ask = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary", text: "Retirer",
    "aria-label": `Retirer ${name}` });
  ask.addEventListener("click", () => {
    const confirm = el("button", { type: "button", class: "fr-btn fr-btn--sm", text: "Confirmer le retrait",
      "aria-label": `Confirmer le retrait ${de(name)}` });
    const cancel = el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary", text: "Annuler" });
    confirm.addEventListener("click", () => remove(agent, confirm));
    cancel.addEventListener("click", () => { cell.replaceWith(removeCell(agent)); });
    cell.replaceChildren(el("ul", { class: "fr-btns-group fr-btns-group--sm fr-btns-group--inline" },
      el("li", {}, confirm), el("li", {}, cancel)));
    confirm.focus();
  });
  cell.append(ask);
  return cell;
}

function render(agents) {
  list.replaceChildren(...agents.map((agent) => el("tr", { "data-agent": agent.id },
    el("td", { text: agent.last_name }),
    el("td", { text: agent.first_name }),
    el("td", { text: agent.email }),
    el("td", {}, badge(agent)),
    removeCell(agent),
  )));
}

async function load() {
  const page = await api.get("/agents");
  render(page.items);
}

async function remove(agent, button) {
  button.disabled = true;
  hideAlert(listAlert);
  try {
    await api.delete(`/agents/${encodeURIComponent(agent.id)}`);
    await load();
    showAlert(listAlert, { type: "success", title: "Agent retiré",
      message: `${agent.first_name} ${agent.last_name} ne peut plus se connecter au service pour la commune.` });
  } catch (error) {
    button.disabled = false;
    showAlert(listAlert, { title: "L'agent n'a pas été retiré", message: error.message });
  }
}

onSubmit(form, async () => {
  clearErrors(form);
  if (!checkRequired(form)) return;
  const values = formValues(form);
  await whileBusy(form, async () => {
    try {
      const agent = await api.post("/agents", values);
      form.reset();
      await load();
      showAlert(document.getElementById("alerte-agent"), {
        type: "success",
        title: "Agent ajouté",
        message: `Un e-mail a été envoyé à ${agent.email} avec un lien pour créer son mot de passe.`,
      });
    } catch (error) {
      showFormError(form, error, { title: "L'agent n'a pas été ajouté", fieldOfCode: { invalid_email: "email" } });
    }
  });
});

openSpace(["commune"]).then(async (person) => {
  me = person;
  try {
    await load();
  } catch (error) {
    showAlert(listAlert, { title: "La liste des agents n'a pas pu être chargée", message: error.message });
  }
}, showLoadError);
