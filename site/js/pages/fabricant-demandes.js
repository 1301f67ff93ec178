// The card maker's orders by status (and optionally by département): GET /admin/orders; each opens
// gestion-demande.html where it is moved on.
import { openSpace, showLoadError } from "../espace.js";
import { AdminOrders } from "../gestion.js";
import { api } from "../api.js";
import { $, clearErrors, el, formValues, hideAlert, onSubmit, showAlert, showFormError, whileBusy } from "../ui.js";

const form = $("#form-filtre");
const orders = new AdminOrders({ tbody: $("#liste-demandes"), more: $("#bouton-plus"), count: $("#nombre-demandes"),
  alert: $("#alerte-filtre"), columns: 6 });

async function show() {
  clearErrors(form);
  const { status, department } = formValues(form);
  const query = new URLSearchParams({ statut: status });
  if (department) query.set("departement", department);
  history.replaceState(null, "", `fabricant-demandes.html?${query}`);
  try {
    await orders.show(status, department.toUpperCase());
  } catch (error) {
    showFormError(form, error, { title: "Les demandes n'ont pas pu être affichées",
      fieldOfCode: { invalid_request: "department" } });
  }
}

onSubmit(form, () => whileBusy(form, show));

// Every order in production in one archive (POST /admin/print-archives): photos, final cards, the CSV manifest.
$("#bouton-archive").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const alert = $("#alerte-archive");
  button.disabled = true;
  hideAlert(alert);
  try {
    const archive = await api.post("/admin/print-archives", {});
    const notes = [];
    if (archive.missing_files.length) notes.push(`Fichiers manquants\u00a0: ${archive.missing_files.join(", ")}.`);
    if (archive.truncated) notes.push("D'autres demandes en production attendent\u00a0: elles seront dans la prochaine archive.");
    showAlert(alert, { type: notes.length ? "warning" : "success", title: "Archive prête",
      message: `${archive.orders} demande${archive.orders > 1 ? "s" : ""}, ${archive.cards} carte${archive.cards > 1 ? "s" : ""}. ${notes.join(" ")}`,
      extra: el("p", {}, el("a", { class: "fr-link fr-icon-download-line fr-link--icon-left", href: archive.url,
        text: "Télécharger l'archive (ZIP)" })) });
  } catch (error) {
    showAlert(alert, { title: "L'archive n'a pas pu être préparée", message: error.message });
  } finally {
    button.disabled = false;
  }
});

openSpace(["manufacturer"]).then(async () => {
  const query = new URLSearchParams(location.search);
  const status = query.get("statut");
  if (status && [...form.elements.namedItem("status").options].some((option) => option.value === status)) {
    form.elements.namedItem("status").value = status;
  }
  form.elements.namedItem("department").value = query.get("departement") || "";
  await show();
}, showLoadError);
