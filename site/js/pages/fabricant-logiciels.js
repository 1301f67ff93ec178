// « Outils de l'État » (card maker): the read-only API clients of a préfecture's tools (one département) or of the
// ministry's (the whole country) — list (GET /admin/api-clients[?department_code=]), create (POST /admin/api-clients:
// the secret is shown once, here), revoke (DELETE /admin/api-clients/{client_id}); each client's webhooks and their
// delivery log, which the card maker manages for these clients. The panels are logiciels-acces.js's, shared with the
// communes' « Accès pour les logiciels ».
import { api } from "../api.js";
import { DEPARTMENT_CODE, STATE_API_SCOPES } from "../constants.js";
import { openSpace, showLoadError } from "../espace.js";
import { manageClients } from "./logiciels-acces.js";
import { $, clearErrors, onSubmit, showFormError, whileBusy } from "../ui.js";

const form = $("#form-proprietaire");
const departmentGroup = $("#groupe-departement");
const departmentField = $("#champ-departement");
const heading = $("#titre-acces");
const DEPARTMENT = new RegExp(DEPARTMENT_CODE);  // domain/codes.py's rule, from constants.js
// Whose clients the panels show: null for the ministry's (national), else a département's code. Changed by
// « Afficher leurs accès » only, never by the radios alone: the form creates for the owner whose list is shown.
let department = null;

const ownerQuery = () => (department ? `?${new URLSearchParams({ department_code: department })}` : "");

const clients = manageClients({
  scopes: STATE_API_SCOPES,  // read only: the API refuses any other scope for these clients
  list: () => api.get(`/admin/api-clients${ownerQuery()}`),
  create: (name, scopes) => api.post("/admin/api-clients",
    department ? { name, scopes, department_code: department } : { name, scopes, national: true }),
  revokePath: (client) => `/admin/api-clients/${encodeURIComponent(client.client_id)}`,
  revokedMessage: (client) => `L'outil « ${client.name} » n'a plus accès aux données.`,
});

function syncDepartmentField() {
  const chosen = form.elements.namedItem("owner").value === "department";
  departmentGroup.hidden = !chosen;
  departmentField.disabled = !chosen;  // a hidden field is neither required nor sent
}

function showOwner() {
  heading.textContent = department ? `Accès des outils de la préfecture du département ${department}`
    : "Accès des outils du ministère (lecture nationale)";
  document.title = `${heading.textContent} — Cartes d'identité des élus`;
  history.replaceState(null, "", department ? `fabricant-logiciels.html?departement=${encodeURIComponent(department)}`
    : "fabricant-logiciels.html");
}

// The page's address keeps the owner (?departement=01): a reload or a shared link shows the same list.
function ownerOfAddress() {
  const code = (new URLSearchParams(location.search).get("departement") || "").toUpperCase();
  if (!DEPARTMENT.test(code)) return;
  form.elements.namedItem("owner").value = "department";
  departmentField.value = code;
  department = code;
}

for (const radio of form.querySelectorAll("input[name=owner]")) radio.addEventListener("change", syncDepartmentField);

onSubmit(form, () => whileBusy(form, async () => {
  clearErrors(form);
  const wanted = departmentField.disabled ? null : departmentField.value.trim().toUpperCase();
  if (wanted !== null && !DEPARTMENT.test(wanted)) {
    const message = wanted ? "Ce n'est pas un code de département : par exemple 01, 2A ou 974."
      : "Ce champ est obligatoire.";
    showFormError(form, { code: "invalid_department", message, details: { department_code: message } },
      { title: wanted ? "Le département n'est pas reconnu" : "Le formulaire est incomplet" });
    return;
  }
  department = wanted;
  clients.reset();
  showOwner();
  if (await clients.show()) heading.focus();  // else the focus is on the alert that says why
}));

openSpace(["manufacturer"]).then(async () => {
  ownerOfAddress();
  syncDepartmentField();
  showOwner();
  await clients.show();
}, showLoadError);
