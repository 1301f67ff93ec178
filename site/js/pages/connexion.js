// "Connexion au service": e-mail and password -> POST /sessions, then the page of the person's role.
import { api, clearSession, pageAfterLogin, saveSession } from "../api.js";
import { checkRequired, clearErrors, formValues, onSubmit, showFormError, whileBusy } from "../ui.js";

const form = document.getElementById("form-connexion");
const params = new URLSearchParams(location.search);

if (params.get("expire") === "1") {
  clearSession();
  const notice = document.getElementById("session-expiree");
  notice.hidden = false;
  notice.focus();
}

onSubmit(form, async () => {
  clearErrors(form);
  if (!checkRequired(form)) return;
  const values = formValues(form);
  await whileBusy(form, async () => {
    try {
      const session = await api.post("/sessions", { email: values.email, password: values.password }, { auth: false });
      saveSession(session);
      location.assign(pageAfterLogin(session.role, params.get("retour")));
    } catch (error) {
      document.getElementById("session-expiree").hidden = true;
      showFormError(form, error, { title: "Connexion impossible" });
    }
  });
});
