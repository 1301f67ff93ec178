// The card maker's orders by status (and optionally by département): GET /admin/orders; each opens
// gestion-demande.html where it is moved on.
import { openSpace, showLoadError } from "../espace.js";
import { AdminOrders, printArchive } from "../gestion.js";
import { $, clearErrors, formValues, onSubmit, showFormError, whileBusy } from "../ui.js";

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
$("#bouton-archive").addEventListener("click", (event) => printArchive(event.currentTarget, $("#alerte-archive")));

openSpace(["manufacturer"]).then(async () => {
  const query = new URLSearchParams(location.search);
  const status = query.get("statut");
  if (status && [...form.elements.namedItem("status").options].some((option) => option.value === status)) {
    form.elements.namedItem("status").value = status;
  }
  form.elements.namedItem("department").value = query.get("departement") || "";
  await show();
}, showLoadError);
