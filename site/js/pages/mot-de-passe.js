// "Choisir votre mot de passe", from the link received by email (?token=...) -> POST /password.
// The token is taken out of the address bar (and of the history) as soon as the page opens.
import { api } from "../api.js";
import { checkRequired, clearErrors, formValues, onSubmit, showFormError, whileBusy } from "../ui.js";

const TOKEN_KEY = "carteselus.password-token";
const form = document.getElementById("form-mot-de-passe");

function readToken() {
  const fromAddress = new URLSearchParams(location.search).get("token");
  if (fromAddress) {
    sessionStorage.setItem(TOKEN_KEY, fromAddress);
    history.replaceState(null, "", "mot-de-passe.html");
    return fromAddress;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function show(step, message) {
  for (const id of ["etape-formulaire", "etape-lien-invalide", "etape-enregistre"]) {
    document.getElementById(id).hidden = id !== step;
  }
  if (message) document.querySelector(`#${step} [data-message]`).textContent = message;
  document.getElementById("titre-page").focus();
}

const token = readToken();
if (!token) {
  show("etape-lien-invalide", "Ce lien est incomplet\u00a0: ouvrez le lien exactement tel qu'il figure dans l'e-mail reçu.");
}

onSubmit(form, async () => {
  clearErrors(form);
  if (!checkRequired(form)) return;
  const values = formValues(form);
  if (values.password !== values.confirmation) {
    showFormError(form, {
      code: "mismatch",
      message: "Les deux mots de passe saisis sont différents.",
      details: { confirmation: "La confirmation doit être identique au mot de passe." },
    }, { title: "Le mot de passe n'a pas été enregistré" });
    return;
  }
  await whileBusy(form, async () => {
    try {
      await api.post("/password", { token, password: values.password }, { auth: false });
      sessionStorage.removeItem(TOKEN_KEY);
      show("etape-enregistre");
    } catch (error) {
      if (error.code === "invalid_token") {
        sessionStorage.removeItem(TOKEN_KEY);
        show("etape-lien-invalide", error.message);
        return;
      }
      showFormError(form, error, {
        title: "Le mot de passe n'a pas été enregistré",
        fieldOfCode: { weak_password: "password" },
      });
    }
  });
});
