// "Connexion au service": « S'identifier avec ProConnect » (POST /proconnect/authorize, then the provider), or e-mail
// and password -> POST /sessions (with the second factor's code when the API answers otp_required), then the page of
// the person's role (or the second factor's enrolment, for an operator who has not enrolled yet).
import { api, clearSession, pageAfterSession, saveSession } from "../api.js";
import { checkRequired, clearErrors, formValues, onSubmit, showAlert, showFormError, whileBusy } from "../ui.js";

const form = document.getElementById("form-connexion");
const params = new URLSearchParams(location.search);
const codeGroup = document.getElementById("groupe-code");
const codeField = document.getElementById("code");

if (params.get("expire") === "1") {
  clearSession();
  const notice = document.getElementById("session-expiree");
  notice.hidden = false;
  notice.focus();
}
if (params.get("deconnexion") === "proconnect") {
  const notice = document.getElementById("deconnexion-proconnect");
  notice.hidden = false;
  notice.focus();
}

const proconnect = document.getElementById("bouton-proconnect");
proconnect.addEventListener("click", async () => {
  proconnect.disabled = true;
  try {
    const { authorization_url: url } = await api.post("/proconnect/authorize", {}, { auth: false });
    if (params.get("retour")) sessionStorage.setItem("carteselus.retour", params.get("retour"));
    location.assign(url);
  } catch (error) {
    proconnect.disabled = false;
    showAlert(document.getElementById("alerte-proconnect"),
      { title: "Connexion avec ProConnect impossible", message: error.message });
  }
});

onSubmit(form, async () => {
  clearErrors(form);
  if (!checkRequired(form)) return;
  const values = formValues(form);
  await whileBusy(form, async () => {
    try {
      const body = { email: values.email, password: values.password };
      if (!codeGroup.hidden && values.otp) body.otp = values.otp.trim();
      const session = await api.post("/sessions", body, { auth: false });
      saveSession(session);
      location.assign(pageAfterSession(session, params.get("retour")));
    } catch (error) {
      document.getElementById("session-expiree").hidden = true;
      if (error.code === "otp_required" && codeGroup.hidden) {
        // The password is right; the account has a second factor: ask its code, the rest stays filled in.
        codeGroup.hidden = false;
        codeField.required = true;
        codeField.focus();
        return;
      }
      showFormError(form, error, { title: "Connexion impossible",
        fieldOfCode: { invalid_otp: "otp", otp_required: "otp" } });
    }
  });
});
