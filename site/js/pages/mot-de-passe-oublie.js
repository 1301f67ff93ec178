// "Mot de passe oublié": POST /password-resets; the answer is the same whether the account exists or not.
import { api } from "../api.js";
import { checkRequired, clearErrors, formValues, onSubmit, showFormError, whileBusy } from "../ui.js";

const form = document.getElementById("form-oubli");

onSubmit(form, async () => {
  clearErrors(form);
  if (!checkRequired(form)) return;
  const { email } = formValues(form);
  await whileBusy(form, async () => {
    try {
      await api.post("/password-resets", { email }, { auth: false });
      document.getElementById("etape-formulaire").hidden = true;
      document.getElementById("etape-envoyee").hidden = false;
      document.getElementById("confirmation-oubli").focus();
    } catch (error) {
      showFormError(form, error, { title: "La demande n'a pas abouti" });
    }
  });
});
