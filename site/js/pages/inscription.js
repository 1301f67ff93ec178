// "Inscription au service": SIREN, activation code and the person in charge -> POST /registrations.
import { api } from "../api.js";
import { checkRequired, clearErrors, formValues, onSubmit, showFormError, whileBusy } from "../ui.js";

const form = document.getElementById("form-inscription");

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
      for (const node of document.querySelectorAll("[data-result]")) {
        node.textContent = result[node.dataset.result] ?? "";
      }
      document.getElementById("etape-formulaire").hidden = true;
      document.getElementById("etape-envoyee").hidden = false;
      document.title = "Inscription enregistrée — Cartes d'identité des élus";
      document.getElementById("titre-page").focus();
    } catch (error) {
      showFormError(form, error, {
        title: "L'inscription n'a pas abouti",
        fieldOfCode: { invalid_siren: "siren", invalid_activation_code: "activation_code", invalid_email: "email" },
      });
    }
  });
});
