// "Inscription au service": SIREN, activation code and the person in charge -> POST /registrations.
import { api } from "../api.js";
import { checkRequired, clearErrors, formValues, onSubmit, showFormError, whileBusy } from "../ui.js";

const form = document.getElementById("form-inscription");
// The query the page shows: a link to #an-anchor also fires popstate, with the same query, and is no step.
let shownSearch = location.search;

function checkLocally(values) {
  const siren = values.siren.replace(/\s/g, "");
  if (!/^\d{9}$/.test(siren)) {
    showFormError(form, {
      code: "invalid_siren",
      message: "Le numéro SIREN doit comporter 9 chiffres.",
      details: { siren: "Le numéro SIREN doit comporter 9 chiffres, sans lettre." },
    }, { title: "Le formulaire contient une erreur" });
    return false;
  }
  return true;
}

/** The form, or « Inscription enregistrée » with what the API answered (kept in the history's state). */
function showStep(state, { focus = true } = {}) {
  const sent = state?.step === "envoyee" && state.result;
  if (sent) {
    for (const node of document.querySelectorAll("[data-result]")) {
      node.textContent = state.result[node.dataset.result] ?? "";
    }
  }
  document.getElementById("etape-formulaire").hidden = Boolean(sent);
  document.getElementById("etape-envoyee").hidden = !sent;
  document.title = `${sent ? "Inscription enregistrée" : "Inscription au service"} — Cartes d'identité des élus`;
  if (focus) document.getElementById("titre-page").focus();
}

window.addEventListener("popstate", (event) => {
  if (location.search === shownSearch) return;
  shownSearch = location.search;
  showStep(event.state);
});
if (new URLSearchParams(location.search).get("etape") === "envoyee") {
  if (history.state?.result) {
    showStep(history.state, { focus: false });
  } else { // an address without its answer: the form
    history.replaceState(null, "", "inscription.html");
    shownSearch = location.search;
  }
}

onSubmit(form, async () => {
  clearErrors(form);
  if (!checkRequired(form)) return;
  const values = formValues(form);
  if (!checkLocally(values)) return;
  await whileBusy(form, async () => {
    try {
      const result = await api.post("/registrations", {
        siren: values.siren.replace(/\s/g, ""),
        activation_code: values.activation_code,
        last_name: values.last_name,
        first_name: values.first_name,
        email: values.email,
      }, { auth: false });
      // The step is in the address and the history (Back shows the form again; a reload keeps this page).
      history.pushState({ step: "envoyee", result }, "", "inscription.html?etape=envoyee");
      shownSearch = location.search;
      showStep(history.state);
    } catch (error) {
      showFormError(form, error, {
        title: "L'inscription n'a pas abouti",
        fieldOfCode: { invalid_siren: "siren", invalid_activation_code: "activation_code", invalid_email: "email" },
      });
    }
  });
});
