// The page ProConnect sends the browser back to, with `code` and `state` in its address: they are posted to
// POST /proconnect/sessions, which answers with a session (or a French refusal); an account with a second factor is
// asked its code here (the answer otp_required carries a ticket for 5 minutes).
import { api, pageAfterSession, saveSession } from "../api.js";
import { checkRequired, clearErrors, formValues, onSubmit, showAlert, showFormError, whileBusy } from "../ui.js";

const params = new URLSearchParams(location.search);
const waiting = document.getElementById("en-cours");
const alertBox = document.getElementById("alerte-proconnect");
const codeForm = document.getElementById("form-code");
const back = document.getElementById("retour-connexion");
let ticket = null;

// The code and the state must not stay in the address bar or the history.
history.replaceState(null, "", "proconnect.html");

function signedIn(session) {
  saveSession(session);
  const retour = sessionStorage.getItem("carteselus.retour");
  sessionStorage.removeItem("carteselus.retour");
  location.replace(pageAfterSession(session, retour));
}

function refused(error) {
  waiting.hidden = true;
  back.hidden = false;
  showAlert(alertBox, { title: "Connexion refusée", message: error.message });
}

async function finish() {
  if (params.get("error")) {
    refused({ message: params.get("error") === "access_denied"
      ? "Vous avez annulé la connexion avec ProConnect. Aucune session n'a été ouverte."
      : "ProConnect n'a pas pu vous identifier. Aucune session n'a été ouverte." });
    return;
  }
  const code = params.get("code");
  const state = params.get("state");
  if (!code || !state) {
    refused({ message: "Cette page attend le retour de ProConnect. Cliquez sur « S'identifier avec ProConnect » depuis la page de connexion." });
    return;
  }
  try {
    signedIn(await api.post("/proconnect/sessions", { code, state }, { auth: false }));
  } catch (error) {
    if (error.code === "otp_required" && error.details?.ticket) {
      ticket = error.details.ticket;
      waiting.hidden = true;
      codeForm.hidden = false;
      document.getElementById("code").focus();
      return;
    }
    refused(error);
  }
}

onSubmit(codeForm, async () => {
  clearErrors(codeForm);
  if (!checkRequired(codeForm)) return;
  const { otp } = formValues(codeForm);
  await whileBusy(codeForm, async () => {
    try {
      signedIn(await api.post("/proconnect/sessions/second-factor", { ticket, otp: otp.trim() }, { auth: false }));
    } catch (error) {
      if (error.code === "invalid_state") {
        codeForm.hidden = true;
        refused(error);
        return;
      }
      showFormError(codeForm, error, { title: "Code refusé", fieldOfCode: { invalid_otp: "otp" } });
    }
  });
});

finish();
