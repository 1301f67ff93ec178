// « Lettres d'activation d'un département » (fabricant.html): POST /admin/activation-letters {department_code}, then a
// link to the PDF (one letter per commune not yet registered, each with a new activation code).
import { api } from "../api.js";
import { $, checkRequired, clearErrors, el, formValues, formatDateTime, onSubmit, showAlert, showFormError, whileBusy } from "../ui.js";

const form = $("#form-lettres");

onSubmit(form, async () => {
  clearErrors(form);
  if (!checkRequired(form)) return;
  const { department_code: department } = formValues(form);
  await whileBusy(form, async () => {
    try {
      const result = await api.post("/admin/activation-letters", { department_code: department.toUpperCase() });
      const skipped = result.skipped.length;
      const link = el("a", { class: "fr-link fr-icon-download-line fr-link--icon-left", href: result.url, target: "_blank",
        rel: "noopener", text: "Ouvrir les lettres d'activation (PDF)",
        title: "Ouvrir les lettres d'activation (PDF) — nouvelle fenêtre" });
      showAlert($("#alerte-lettres"), {
        type: "success",
        title: `${result.letters} lettre${result.letters > 1 ? "s" : ""} d'activation pour le département ${department.toUpperCase()}`,
        message: (skipped ? `${skipped} commune${skipped > 1 ? "s" : ""} sans lettre (déjà inscrite${skipped > 1 ? "s" : ""} `
          + "ou absente" + (skipped > 1 ? "s" : "") + " du référentiel). " : "")
          + `Lien valable jusqu'à ${formatDateTime(result.expires_at)}.`,
        extra: el("p", {}, link),
      });
    } catch (error) {
      showFormError(form, error, { title: "Les lettres n'ont pas été générées",
        fieldOfCode: { not_found: "department_code", invalid_request: "department_code" } });
    }
  });
});
