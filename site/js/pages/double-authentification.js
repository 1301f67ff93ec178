// « Double authentification »: GET /me/second-factor; if not active, POST /me/second-factor gives the secret and its
// QR code, a code from the app confirms it (POST /me/second-factor/confirm), and the recovery codes are shown once.
// An operator who has not enrolled yet is sent here after signing in: their session serves nothing else.
import { HOME_OF_ROLE, api, getSession, goToLogin } from "../api.js";
import { checkRequired, clearErrors, el, formValues, onSubmit, showAlert, showFormError, whileBusy } from "../ui.js";

const alertBox = document.getElementById("alerte-double");
const home = HOME_OF_ROLE[getSession()?.role] || "index.html";
document.getElementById("continuer").href = home;
document.getElementById("continuer-deja").href = home;

async function start() {
  if (!getSession()) return goToLogin(false);
  try {
    const status = await api.get("/me/second-factor");
    if (status.enabled) {
      document.getElementById("etape-deja").hidden = false;
      return null;
    }
    const enrolment = await api.post("/me/second-factor", {});
    document.getElementById("qr-code").src = enrolment.qr_code;
    document.getElementById("secret").textContent = enrolment.secret.replace(/(.{4})/g, "$1 ").trim();
    document.getElementById("etape-activation").hidden = false;
  } catch (error) {
    showAlert(alertBox, { title: "La double authentification n'a pas pu être préparée", message: error.message });
  }
  return null;
}

const form = document.getElementById("form-confirmation");
onSubmit(form, async () => {
  clearErrors(form);
  if (!checkRequired(form)) return;
  const { otp } = formValues(form);
  await whileBusy(form, async () => {
    try {
      const enabled = await api.post("/me/second-factor/confirm", { otp: otp.replace(/\s/g, "") });
      document.getElementById("etape-activation").hidden = true;
      document.getElementById("codes-secours").replaceChildren(
        ...enabled.recovery_codes.map((code) => el("li", {}, el("code", {}, code))));
      document.getElementById("etape-codes").hidden = false;
      document.getElementById("titre-page").focus();
    } catch (error) {
      showFormError(form, error, { title: "Code refusé", fieldOfCode: { invalid_otp: "otp" } });
    }
  });
});

start();
