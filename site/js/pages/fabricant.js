// Manufacturer's back office: reference files (upload + follow-up, the sync with data.gouv.fr), activation codes,
// operator accounts.
import { ApiError, api, uploadFile } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import {
  checkRequired, clearErrors, el, formatDateTime, formatNumber, formValues, onSubmit, showAlert, showFormError,
  whileBusy,
} from "../ui.js";
import { de } from "../typography.js";

// --- reference files -------------------------------------------------------------------------------------------------

const STATUS = {
  pending: { label: "En attente", badge: "fr-badge--new" },
  running: { label: "En cours", badge: "fr-badge--info" },
  done: { label: "Terminé", badge: "fr-badge--success" },
  failed: { label: "Échec", badge: "fr-badge--error" },
};
const POLL_EVERY_MS = 1000;
const MAX_POLL_FAILURES = 5;

const importForm = document.getElementById("form-import");
const importAlert = document.getElementById("alerte-import");
const progressBox = document.getElementById("envoi");
const progressBar = document.getElementById("envoi-progression");
const progressText = document.getElementById("envoi-pourcentage");
const follow = document.getElementById("suivi");
let polling = null;

function setProgress(fraction) {
  const percent = Math.round(fraction * 100);
  progressBar.value = percent;
  progressBar.textContent = `${percent} %`;
  progressText.textContent = `${percent} %`;
}

function showImport(state) {
  const status = STATUS[state.status] || { label: state.status, badge: "" };
  const statusLine = document.getElementById("suivi-statut");
  const badge = el("span", { class: `fr-badge ${status.badge}`, text: status.label });
  if (statusLine.dataset.status !== state.status) {
    statusLine.replaceChildren("Statut\u00a0: ", badge);
    statusLine.dataset.status = state.status;
  }
  document.getElementById("compte-lignes").textContent = formatNumber(state.rows);
  document.getElementById("compte-importees").textContent = formatNumber(state.imported);
  document.getElementById("compte-rejetees").textContent = formatNumber(state.rejected);
  const told = document.getElementById("suivi-communes");
  told.hidden = state.communes_checked === null || state.communes_checked === undefined;
  told.textContent = told.hidden ? "" : `Communes inscrites concernées\u00a0: ${formatNumber(state.communes_checked)
  }. Celles dont les élus ont changé en sont informées par courriel et dans leur espace.`;
  const failure = document.getElementById("suivi-echec");
  if (state.status === "failed") {
    failure.dataset.heading = "h4";
    showAlert(failure, { title: "L'import a échoué", message: state.failure || "Le fichier n'a pas pu être importé.",
      focus: false });
  } else {
    failure.hidden = true;
  }
  const lineRows = (lines) => lines.map((line) => el("tr", {},
    el("td", { text: String(line.line) }), el("td", { text: line.reason })));
  const errors = state.errors || [];
  document.getElementById("table-erreurs").hidden = errors.length === 0;
  document.getElementById("liste-erreurs").replaceChildren(...lineRows(errors));
  const warnings = state.warnings || [];
  document.getElementById("table-avertissements").hidden = warnings.length === 0;
  document.getElementById("liste-avertissements").replaceChildren(...lineRows(warnings));
  const notes = state.notes || [];
  document.getElementById("suivi-notes").hidden = notes.length === 0;
  document.getElementById("liste-notes").replaceChildren(...notes.map((note) => el("li", { text: note })));
  follow.hidden = false;
}

function stopPolling() {
  if (polling) clearTimeout(polling);
  polling = null;
}

/** Follow the import every second until it is done or failed; resolves with its last state. */
function followImport(id) {
  stopPolling();
  let failures = 0;
  return new Promise((resolve, reject) => {
    const poll = async () => {
      try {
        const state = await api.get(`/admin/reference-imports/${encodeURIComponent(id)}`);
        failures = 0;
        showImport(state);
        if (state.status === "done" || state.status === "failed") {
          polling = null;
          resolve(state);
          return;
        }
      } catch (error) {
        failures += 1;
        if (failures >= MAX_POLL_FAILURES) {
          polling = null;
          reject(error);
          return;
        }
      }
      polling = setTimeout(poll, POLL_EVERY_MS);
    };
    poll();
  });
}

onSubmit(importForm, async () => {
  clearErrors(importForm);
  if (!checkRequired(importForm)) return;
  const { kind } = formValues(importForm);
  const file = importForm.elements.file.files[0];
  stopPolling();
  follow.hidden = true;
  await whileBusy(importForm, async () => {
    try {
      const announce = document.getElementById("import-annonce");
      const started = await api.post("/admin/reference-imports", { kind });
      setProgress(0);
      progressBox.hidden = false;
      announce.textContent = `Envoi du fichier ${file.name} en cours…`;
      await uploadFile(started.upload, file, setProgress);
      announce.textContent = "Fichier envoyé. Import en cours…";
      const state = await followImport(started.id);
      announce.textContent = state.status === "done" ? "" : "L'import a échoué.";
      if (state.status === "done") {
        showAlert(importAlert, {
          type: state.rejected ? "warning" : "success",
          title: state.rejected ? "Import terminé avec des lignes rejetées" : "Import terminé",
          message: `${file.name}\u00a0: ${formatNumber(state.imported)} ligne(s) importée(s), ` +
            `${formatNumber(state.rejected)} rejetée(s).`,
        });
      } else {
        document.getElementById("suivi-echec").focus(); // the reason is shown under the follow-up
      }
    } catch (error) {
      showFormError(importForm, error, { title: "L'import n'a pas abouti" });
    }
  });
});

// --- the sync with data.gouv.fr --------------------------------------------------------------------------------------

const SYNC_STATUS = {
  running: { label: "En cours", badge: "fr-badge--info" },
  done: { label: "Terminée", badge: "fr-badge--success" },
  failed: { label: "Échec", badge: "fr-badge--error" },
};
const SYNC_ACTIONS = {
  downloaded: { label: "Nouvelle version importée", badge: "fr-badge--success" },
  unchanged: { label: "Inchangé", badge: "fr-badge--info" },
  failed: { label: "Échec", badge: "fr-badge--error" },
};
const SYNC_POLL_MS = 1500;
const syncForm = document.getElementById("form-synchro");
const syncAlert = document.getElementById("alerte-synchro");
let syncPolling = null;

/** Open an import's report in the follow-up of the import section. */
function openImportReport(importId) {
  followImport(importId).catch(() => {});
  follow.hidden = false;
  document.getElementById("suivi").scrollIntoView();
}

function syncResult(resource) {
  const action = SYNC_ACTIONS[resource.action] || { label: resource.action, badge: "" };
  const cell = el("td", {}, el("span", { class: `fr-badge fr-badge--sm ${action.badge}`, text: action.label }));
  if (resource.action === "downloaded" && resource.import_id) {
    const link = el("a", { class: "fr-link fr-link--sm fr-ml-1w", href: "#suivi", text: "Voir le rapport d'import",
      title: `Voir le rapport d'import – ${resource.kind_label}` });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openImportReport(resource.import_id);
    });
    cell.append(" ", link);
  } else if (resource.action === "failed" && resource.reason) {
    cell.append(el("p", { class: "fr-text--sm fr-mb-0 fr-mt-1v", text: resource.reason }));
  }
  return cell;
}

function showSync(sync) {
  document.getElementById("synchro-aucune").hidden = true;
  document.getElementById("synchro-detail").hidden = false;
  const status = SYNC_STATUS[sync.status] || { label: sync.status, badge: "" };
  const statusLine = document.getElementById("synchro-statut");
  if (statusLine.dataset.status !== sync.status || statusLine.dataset.id !== sync.id) {
    statusLine.replaceChildren("Statut\u00a0: ", el("span", { class: `fr-badge ${status.badge}`, text: status.label }));
    statusLine.dataset.status = sync.status;
    statusLine.dataset.id = sync.id;
  }
  const who = sync.requested_by === "schedule" ? "synchronisation quotidienne automatique"
    : `demandée par ${sync.requested_by}`;
  const when = sync.finished_at ? `, terminée le ${formatDateTime(sync.finished_at)}` : "";
  document.getElementById("synchro-quand").textContent =
    `Commencée le ${formatDateTime(sync.started_at)}${when} (${who}).`;
  const failure = document.getElementById("synchro-echec");
  if (sync.status === "failed" && sync.failure) {
    failure.dataset.heading = "h4";
    showAlert(failure, { title: "La synchronisation a échoué", message: sync.failure, focus: false });
  } else {
    failure.hidden = true;
  }
  document.getElementById("liste-synchro").replaceChildren(...sync.resources.map((resource) => el("tr", {},
    el("td", {}, el("strong", { text: resource.kind_label }), resource.title ? el("br") : null,
      resource.title ? el("span", { class: "fr-text--sm", text: resource.title }) : null),
    el("td", { text: resource.last_modified ? `du ${formatDateTime(resource.last_modified)}` : "–" }),
    syncResult(resource))));
}

function stopSyncPolling() {
  if (syncPolling) clearTimeout(syncPolling);
  syncPolling = null;
}

/** Follow a sync until it is done or failed; resolves with its last state. */
function followSync(path) {
  stopSyncPolling();
  let failures = 0;
  return new Promise((resolve, reject) => {
    const poll = async () => {
      try {
        const sync = await api.get(path);
        failures = 0;
        showSync(sync);
        if (sync.status !== "running") {
          syncPolling = null;
          resolve(sync);
          return;
        }
      } catch (error) {
        failures += 1;
        if ((error instanceof ApiError && error.status === 404) || failures >= MAX_POLL_FAILURES) {
          syncPolling = null;
          reject(error);
          return;
        }
      }
      syncPolling = setTimeout(poll, SYNC_POLL_MS);
    };
    poll();
  });
}

function syncSummary(sync) {
  if (sync.status === "failed") {
    return { type: "error", title: "La synchronisation a échoué",
      message: "Aucun fichier mal reçu n'a été importé : le détail est ci-dessous." };
  }
  const imported = sync.resources.filter((r) => r.action === "downloaded").map((r) => r.kind_label);
  return imported.length
    ? { type: "success", title: "Synchronisation terminée",
      message: `Nouvelle version importée : ${imported.join(", ")}. Le rapport de chaque import est ci-dessous.` }
    : { type: "info", title: "Synchronisation terminée",
      message: "Aucune nouvelle version sur data.gouv.fr : rien n'a été importé." };
}

onSubmit(syncForm, async () => {
  await whileBusy(syncForm, async () => {
    let path;
    try {
      const started = await api.post("/admin/reference-syncs", {});
      path = `/admin/reference-syncs/${encodeURIComponent(started.id)}`;
      showSync(started);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "sync_in_progress")) {
        showFormError(syncForm, error, { title: "La synchronisation n'a pas été lancée" });
        return;
      }
      showAlert(syncAlert, { type: "info", title: "Une synchronisation est déjà en cours", message: error.message,
        focus: false });
      path = error.details?.sync_id ? `/admin/reference-syncs/${encodeURIComponent(error.details.sync_id)}`
        : "/admin/reference-syncs/latest";
    }
    try {
      showAlert(syncAlert, syncSummary(await followSync(path)));
    } catch (error) {
      showFormError(syncForm, error, { title: "Le suivi de la synchronisation a été interrompu" });
    }
  });
});

async function showLatestSync() {
  try {
    const latest = await api.get("/admin/reference-syncs/latest");
    showSync(latest);
    if (latest.status === "running") followSync(`/admin/reference-syncs/${encodeURIComponent(latest.id)}`)
      .catch(() => {});
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) {
      document.getElementById("synchro-aucune").textContent =
        "La dernière synchronisation n'a pas pu être lue. Rechargez la page pour réessayer.";
    }
  }
}

// --- activation codes ------------------------------------------------------------------------------------------------

const codeForm = document.getElementById("form-code");

onSubmit(codeForm, async () => {
  clearErrors(codeForm);
  if (!checkRequired(codeForm)) return;
  const siren = formValues(codeForm).siren.replace(/\s/g, "");
  await whileBusy(codeForm, async () => {
    try {
      const issued = await api.post(`/admin/communes/${encodeURIComponent(siren)}/activation-code`, {});
      const commune = issued.commune_name ? `${issued.commune_name} (SIREN ${issued.siren})` : `SIREN ${issued.siren}`;
      const validUntil = formatDateTime(issued.expires_at);
      document.getElementById("liste-codes").prepend(el("tr", {},
        el("td", { text: issued.commune_name || "" }), el("td", { text: issued.siren }),
        el("td", {}, el("span", { class: "app-code app-code--sm", text: issued.activation_code })),
        el("td", { text: validUntil })));
      document.getElementById("table-codes").hidden = false;
      showAlert(document.getElementById("alerte-code"), {
        type: "success",
        title: `Code d'activation émis pour ${commune}`,
        extra: el("div", {},
          el("p", { class: "fr-mb-1w" }, "Code d'activation\u00a0: ",
            el("strong", { class: "app-code", text: issued.activation_code })),
          el("p", { class: "fr-mb-1w", text: `Valable jusqu'au ${validUntil}.` }),
          el("p", { text: "Tout code émis auparavant pour cette commune ne fonctionne plus. Envoyez ce code " +
            "par courrier à la mairie." })),
      });
    } catch (error) {
      showFormError(codeForm, error, {
        title: "Le code n'a pas été émis",
        fieldOfCode: { invalid_siren: "siren", not_found: "siren", already_registered: "siren" },
      });
    }
  });
});

// --- operator accounts -----------------------------------------------------------------------------------------------

const operatorForm = document.getElementById("form-operateur");
const departmentBlock = document.getElementById("operateur-departement-bloc");
const departmentInput = document.getElementById("operateur-departement");

function syncDepartment() {
  const prefecture = operatorForm.elements.role.value === "prefecture";
  departmentBlock.hidden = !prefecture;
  departmentInput.disabled = !prefecture;
}
operatorForm.addEventListener("change", (event) => {
  if (event.target.name === "role") syncDepartment();
});
syncDepartment();

onSubmit(operatorForm, async () => {
  clearErrors(operatorForm);
  if (!checkRequired(operatorForm)) return;
  const values = formValues(operatorForm);
  const body = { email: values.email, first_name: values.first_name, last_name: values.last_name, role: values.role };
  if (values.role === "prefecture") body.department_code = values.department_code.toUpperCase();
  await whileBusy(operatorForm, async () => {
    try {
      const created = await api.post("/admin/operators", body);
      const who = created.role === "prefecture"
        ? `un agent de la préfecture (département ${created.department_code})` : "une personne du fabricant";
      operatorForm.reset();
      syncDepartment();
      showAlert(document.getElementById("alerte-operateur"), {
        type: "success",
        title: "Compte créé",
        message: `Le compte ${de(values.first_name)} ${values.last_name}, ${who}, est créé. Un e-mail avec un lien ` +
          `pour créer son mot de passe a été envoyé à ${created.email}.`,
      });
    } catch (error) {
      showFormError(operatorForm, error, { title: "Le compte n'a pas été créé", fieldOfCode: { invalid_email: "email" } });
    }
  });
});

openSpace(["manufacturer"]).then(showLatestSync).catch(showLoadError);

// --- ending an operator's sessions -----------------------------------------------------------------------------------

const revocationForm = document.getElementById("form-sessions-operateur");

onSubmit(revocationForm, async () => {
  clearErrors(revocationForm);
  if (!checkRequired(revocationForm)) return;
  const { email } = formValues(revocationForm);
  await whileBusy(revocationForm, async () => {
    try {
      await api.post("/admin/session-revocations", { email: email.trim() });
      revocationForm.reset();
      showAlert(document.getElementById("alerte-sessions-operateur"), {
        type: "success", title: "Sessions fermées",
        message: `Toutes les sessions ${de(email.trim())} sont fermées.`,
      });
    } catch (error) {
      showFormError(revocationForm, error, { title: "Les sessions n'ont pas été fermées",
        fieldOfCode: { unknown_operator: "email" } });
    }
  });
});
