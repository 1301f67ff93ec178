// « Nouvelle demande »: « Créer » in the box « Nouvelle carte », 1. tick the officials (POST /orders: a draft),
// 2. the preview of each card and the confirmation box, 3. the summary with the préfecture's address, « Terminer »
// (POST /orders/{id}/submit). With ?id=<draft>: continue a draft at its previews.
// The step is in the address (?etape=1|2|3, with ?id=<draft> once the draft exists; history.pushState), so that the
// browser's Back and a reload keep the person at the step they were at.
import { api } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { addressBlock, personName, pictureLink } from "../commandes.js";
import { REPLACEMENT_REASONS } from "../constants.js";
import { $, clearErrors, el, formatDate, hideAlert, onSubmit, showAlert, showFormError, whileBusy } from "../ui.js";
import { de } from "../typography.js";

const STEPS = ["Choix des élus", "Prévisualisation des cartes", "Récapitulatif"];
const CONFIRMATION = "Cochez la case confirmant que vous avez vu la prévisualisation des cartes.";

const officialsForm = $("#form-elus");
const officialsAlert = $("#alerte-elus");
const previewForm = $("#form-previsualisation");
const submitForm = $("#form-envoi");
const rows = $("#liste-elus");
let order = null;
let kept = new Set(); // the officials ticked, kept when the selection is changed
// The query the page shows: a link to #an-anchor also fires popstate, with the same query, and is no step.
let shownSearch = location.search;

// --- the stepper ---------------------------------------------------------------------------------------------------

function stepUrl(number) {
  const params = new URLSearchParams();
  if (order) params.set("id", order.id);
  if (number) params.set("etape", String(number));
  return `demande-nouvelle.html${params.size ? `?${params}` : ""}`;
}

/** Show a step and put it in the address: a new entry of the history (Back returns), or in place of the current. */
function goToStep(number, { replace = false } = {}) {
  history[replace ? "replaceState" : "pushState"]({ step: number }, "", stepUrl(number));
  shownSearch = location.search;
  showStep(number);
}

function showIntro() {
  $("#parcours").hidden = true;
  $("#nouvelle-carte").hidden = false;
  $("#bouton-creer").disabled = false;
  document.title = "Nouvelle demande — Cartes d'identité des élus";
}

function showStep(number, { focus = true } = {}) {
  $("#parcours").hidden = false;
  $("#nouvelle-carte").hidden = true;
  for (let index = 1; index <= STEPS.length; index += 1) $(`#etape-${index}`).hidden = index !== number;
  $("#etape-nom").textContent = STEPS[number - 1];
  $("#etape-etat").textContent = `Étape ${number} sur ${STEPS.length}`;
  $("#etape-barre").dataset.frCurrentStep = String(number);
  $("#etape-suivante").hidden = number === STEPS.length;
  if (number < STEPS.length) $("#etape-suivante-nom").textContent = STEPS[number];
  document.title = `${STEPS[number - 1]} — Nouvelle demande — Cartes d'identité des élus`;
  if (focus) $("#etape-titre").focus();
}

// --- step 1: the officials -----------------------------------------------------------------------------------------

/** Why an official cannot be ordered now, or null if they can. */
function whyNot(official) {
  const inThisDraft = order?.cards.some((card) => card.official_id === official.id);
  if (official.card_in_progress && !inThisDraft) return "Une carte est déjà en cours de commande pour cet élu.";
  if (official.mandate_ended) return "Le mandat de cet élu a pris fin\u00a0: pas de nouvelle carte.";
  if (official.photo.status === "processing") return "La photo est en cours de traitement\u00a0: réessayez dans un instant.";
  if (!official.photo.ready) {
    return official.photo.status === "rejected" ? "La photo a été refusée\u00a0: ajoutez-en une autre."
      : "La photo n'a pas encore été ajoutée.";
  }
  if (official.photo.blocking) {
    const errors = (official.photo.checks || []).filter((check) => check.level === "error").map((check) => check.message);
    return `La photo ne respecte pas la norme\u00a0: ${errors.join(" ") || "recadrez-la ou changez-la."}`;
  }
  return null;
}

// A new card for an official who holds a valid one replaces it: the reason is asked (the old card is then to be
// returned). A card declared lost or stolen is replaced with that reason, nothing to ask.
// (REPLACEMENT_REASONS: chalicelib/domain/cards.py, through js/constants.js.)

function holdsValidCard(official) {
  return official.card?.status === "remise";
}

function reasonField(official) {
  const name = personName(official);
  if (holdsValidCard(official)) {
    const id = `motif-${official.id}`;
    return el("div", { class: "fr-select-group fr-mt-1w fr-mb-0" },
      el("label", { class: "fr-label", for: id }, `Motif de la nouvelle carte ${de(name)}`,
        el("span", { class: "fr-hint-text", text: `Carte n°\u00a0${official.card.number} remise le ${formatDate(official.card.handed_over_at)}\u00a0: elle sera à restituer. En cas de perte ou de vol, déclarez-la d'abord (page « Cartes »).` })),
      el("select", { class: "fr-select", id, name: `reason-${official.id}`, "data-reason-of": official.id },
        el("option", { value: "", text: "Choisir un motif" }),
        ...REPLACEMENT_REASONS.map(([value, label]) => el("option", { value, text: label }))));
  }
  if (official.card && ["perdue", "volee"].includes(official.card.status)) {
    return el("p", { class: "fr-hint-text fr-mt-1w", text: `Remplace la carte n°\u00a0${official.card.number}, déclarée ${official.card.status_label.toLowerCase()}.` });
  }
  return null;
}

function officialRow(official) {
  const name = personName(official);
  const why = whyNot(official);
  const boxId = `case-${official.id}`;
  const whyId = `raison-${official.id}`;
  const box = el("input", { type: "checkbox", id: boxId, name: "official_ids", value: official.id, disabled: Boolean(why),
    checked: !why && kept.has(official.id), "aria-describedby": whyId });
  const state = why
    ? [el("p", { class: "app-why", id: whyId, text: why })]
    : [el("p", { class: "fr-badge fr-badge--sm fr-badge--success", id: whyId, text: "Prêt pour la commande" })];
  if (why && !official.card_in_progress && !official.mandate_ended && official.photo.status !== "processing") {
    const label = official.photo.ready ? "Changer la photo" : "Ajouter la photo";
    state.push(el("a", { class: "fr-link fr-text--sm", href: `elu-nouveau.html?elu=${encodeURIComponent(official.id)}`,
      text: label, "aria-label": `${label} ${de(name)}` }));
  }
  return el("tr", { "data-elu": official.id },
    el("td", { class: "fr-cell--fixed" }, el("div", { class: "fr-checkbox-group fr-checkbox-group--sm" },
      box, el("label", { class: "fr-label", for: boxId, text: `Sélectionner ${name}` }))),
    el("th", { scope: "row", text: `${official.last_name} ${official.first_name}` }),
    el("td", { text: official.function_label }),
    el("td", {}, official.photo.ready && official.photo.url
      ? el("img", { src: official.photo.url, alt: `Photo d'identité ${de(name)}`, class: "app-id-photo app-id-photo--sm" })
      : el("span", { class: "app-muted fr-text--sm", text: "—" })),
    el("td", { class: "app-state fr-cell--multiline" }, state, why ? null : reasonField(official)));
}

async function loadOfficials() {
  const { items } = await api.get("/officials");
  if (!items.length) {
    rows.replaceChildren(el("tr", {}, el("td", { colSpan: 5 }, "Aucun élu n'est encore enregistré. ",
      el("a", { href: "elu-nouveau.html", text: "Enregistrer un élu" }))));
  } else {
    rows.replaceChildren(...items.map(officialRow));
  }
  const ready = items.filter((official) => !whyNot(official)).length;
  $("#elus-compte").textContent = ready
    ? `${ready} élu${ready > 1 ? "s" : ""} sur ${items.length} peu${ready > 1 ? "vent" : "t"} être commandé${ready > 1 ? "s" : ""}.`
    : "Aucun élu ne peut être commandé pour l'instant\u00a0: il faut une photo prête et aucune carte déjà en cours.";
}

// The refusals that name officials (details: [{official_id, message?}]).
const ROW_ERRORS = ["officials_not_ready", "card_already_issued", "mandate_ended", "declaration_required"];

/** A refusal naming officials: each official's reason in their row, next to their box, and in the alert. */
function showRowErrors(error) {
  clearErrors(officialsForm);
  clearRowErrors();
  const items = [];
  for (const problem of Array.isArray(error.details) ? error.details : []) {
    const row = rows.querySelector(`tr[data-elu="${CSS.escape(problem.official_id)}"]`);
    if (!row) continue;
    const box = row.querySelector("input[type=checkbox]");
    const id = `erreur-${problem.official_id}`;
    row.classList.add("app-row--error");
    row.querySelector(".app-state").prepend(el("p", { class: "fr-error-text fr-mt-0 fr-mb-1w", id, "data-row-error": "",
      text: problem.message || error.message }));
    box.setAttribute("aria-invalid", "true");
    box.setAttribute("aria-describedby", `${id} raison-${problem.official_id}`);
    items.push({ href: `#${box.id}`, text: problem.message || error.message });
  }
  showAlert(officialsAlert, { title: "La demande n'a pas été créée", message: error.message, items });
}

function clearRowErrors() {
  rows.querySelectorAll("[data-row-error]").forEach((node) => node.remove());
  rows.querySelectorAll("tr.app-row--error").forEach((row) => {
    row.classList.remove("app-row--error");
    const box = row.querySelector("input[type=checkbox]");
    box.removeAttribute("aria-invalid");
    box.setAttribute("aria-describedby", `raison-${row.dataset.elu}`);
  });
}

onSubmit(officialsForm, async () => {
  clearErrors(officialsForm);
  clearRowErrors();
  const ids = [...officialsForm.querySelectorAll("input[name=official_ids]:checked")].map((box) => box.value);
  kept = new Set(ids);
  if (!ids.length) {
    showFormError(officialsForm, { code: "missing_fields", message: "Sélectionnez au moins un élu.",
      details: { official_ids: "Cochez la case en début de ligne des élus dont vous commandez la carte." } },
    { title: "Aucun élu n'est sélectionné" });
    return;
  }
  const missing = ids.filter((id) => officialsForm.querySelector(`select[data-reason-of="${CSS.escape(id)}"]`)?.value === "");
  if (missing.length) {
    showFormError(officialsForm, { code: "missing_fields", message: "Indiquez le motif de chaque nouvelle carte pour un élu qui en détient déjà une.",
      details: Object.fromEntries(missing.map((id) => [`reason-${id}`, "Choisissez le motif de la nouvelle carte."])) },
    { title: "Le motif de la nouvelle carte manque" });
    return;
  }
  const cards = ids.map((id) => {
    const reason = officialsForm.querySelector(`select[data-reason-of="${CSS.escape(id)}"]`)?.value;
    return reason ? { official_id: id, reason } : { official_id: id };
  });
  await whileBusy(officialsForm, async () => {
    try {
      // Back at step 1 with the draft made before: the same selection goes on with it, another one replaces it.
      const key = (list) => list.map((card) => `${card.official_id}:${card.reason || ""}`).sort().join();
      const sameDraft = order && key(order.cards.map((card) => ({ official_id: card.official_id,
        reason: REPLACEMENT_REASONS.some(([code]) => code === card.reason) ? card.reason : "" }))) === key(cards);
      if (!sameDraft) {
        if (order) await cancelDraft();
        order = await api.post("/orders", { cards });
        showPreviews();
      }
      history.replaceState({ step: 1 }, "", stepUrl(1)); // the draft exists now: step 1's address names it too
      shownSearch = location.search;
      goToStep(2);
    } catch (error) {
      if (ROW_ERRORS.includes(error.code)) showRowErrors(error);
      else showFormError(officialsForm, error, { title: "La demande n'a pas été créée" });
    }
  });
});

// --- step 2: the previews ------------------------------------------------------------------------------------------

function showPreviews() {
  clearErrors(previewForm);
  previewForm.elements.namedItem("preview_acknowledged").checked = false;
  $("#previsualisations").replaceChildren(...order.cards.map((card) => {
    const name = personName(card);
    const picture = card.preview.status === "ready" && card.preview.url
      ? pictureLink(card.preview.url, `Prévisualisation de la carte ${de(name)}, ${card.function_label}`, "app-card-image")
      : el("p", { class: "app-why", text: "Prévisualisation indisponible pour le moment." });
    return el("li", {}, el("figure", { class: "app-figure" }, picture,
      el("figcaption", { class: "fr-text--sm fr-mt-1w fr-mb-0", text: `${card.last_name} ${card.first_name} — ${card.function_label}` })));
  }));
  $("#previsualisation-compte").textContent = order.cards.length > 1
    ? `Les ${order.cards.length} cartes de cette demande seront fabriquées telles qu'elles apparaissent ci-dessous.`
    : "La carte de cette demande sera fabriquée telle qu'elle apparaît ci-dessous.";
}

onSubmit(previewForm, () => {
  clearErrors(previewForm);
  if (!previewForm.elements.namedItem("preview_acknowledged").checked) {
    showFormError(previewForm, { code: "preview_not_acknowledged", message: CONFIRMATION,
      details: { preview_acknowledged: "Cochez cette case pour passer à l'étape suivante." } },
    { title: "Confirmation obligatoire" });
    return;
  }
  showSummary();
  goToStep(3);
});

// --- step 3: the summary -------------------------------------------------------------------------------------------

function showSummary() {
  clearErrors(submitForm);
  $("#recapitulatif").replaceChildren(...order.cards.map((card) => el("tr", {},
    el("th", { scope: "row", text: `${card.last_name} ${card.first_name}` }),
    el("td", { text: card.function_label }))));
  $("#recapitulatif-compte").textContent = order.cards.length > 1
    ? `${order.cards.length} cartes seront commandées.` : "1 carte sera commandée.";
  $("#adresse-livraison").replaceChildren(addressBlock(order.delivery_address));
}

$("#bouton-retour-previsualisation").addEventListener("click", () => {
  if (history.state?.step === 3) history.back(); // the step before, as the browser's Back
  else goToStep(2, { replace: true });
});

onSubmit(submitForm, async () => {
  clearErrors(submitForm);
  await whileBusy(submitForm, async () => {
    try {
      await api.post(`/orders/${encodeURIComponent(order.id)}/submit`, { preview_acknowledged: true });
      location.assign(`demandes.html?envoyee=${encodeURIComponent(order.id)}`);
    } catch (error) {
      if (error.code === "preview_not_acknowledged") {
        goToStep(2, { replace: true });
        showFormError(previewForm, error, { title: "Confirmation obligatoire" });
        return;
      }
      const extra = error.code === "invalid_transition"
        ? el("p", {}, el("a", { href: `demande.html?id=${encodeURIComponent(order.id)}`, text: "Voir la demande" }))
        : null;
      showFormError(submitForm, error, { title: "La demande n'a pas été envoyée", extra });
    }
  });
});

// --- changing the selection, cancelling ------------------------------------------------------------------------------

async function cancelDraft() {
  await api.post(`/orders/${encodeURIComponent(order.id)}/cancel`, {});
}

$("#bouton-modifier").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    kept = new Set(order.cards.map((card) => card.official_id));
    await cancelDraft();
    order = null;
    await loadOfficials();
    hideAlert(officialsAlert);
    goToStep(1, { replace: true });
  } catch (error) {
    showAlert($("#alerte-previsualisation"), { title: "La sélection n'a pas pu être modifiée", message: error.message });
  } finally {
    button.disabled = false;
  }
});

for (const button of document.querySelectorAll("[data-action=annuler-demande]")) {
  button.addEventListener("click", () => {
    const box = button.closest("section").querySelector("[data-confirmation]");
    box.hidden = false;
    box.querySelector("button").focus();
  });
}

for (const box of document.querySelectorAll("[data-confirmation]")) {
  const [confirm, keep] = box.querySelectorAll("button");
  keep.addEventListener("click", () => {
    box.hidden = true;
    box.closest("section").querySelector("[data-action=annuler-demande]").focus();
  });
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    try {
      await cancelDraft();
      location.assign("demandes.html?annulee=1");
    } catch (error) {
      confirm.disabled = false;
      showAlert(box.closest("section").querySelector("[data-alert-zone]"), { title: "La demande n'a pas été annulée",
        message: error.message });
    }
  });
}

// --- opening -------------------------------------------------------------------------------------------------------

$("#bouton-creer").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await loadOfficials();
    goToStep(1);
  } catch (error) {
    showAlert($("#alerte-page"), { title: "La liste des élus n'a pas pu être chargée", message: error.message });
  } finally {
    button.disabled = false;
  }
});

/** The step the address names (at opening, after Back or Forward): ?etape=1|2|3, ?id=<draft> (step 2 by default). */
async function start({ focus = false } = {}) {
  const params = new URLSearchParams(location.search);
  const id = params.get("id");
  let step = [1, 2, 3].includes(Number(params.get("etape"))) ? Number(params.get("etape")) : id ? 2 : 0;
  if (id && order?.id !== id) {
    try {
      order = await api.get(`/orders/${encodeURIComponent(id)}`);
    } catch (error) {
      showAlert($("#alerte-page"), { title: "Cette demande est introuvable", message: error.message });
      $("#bouton-creer").disabled = false;
      return;
    }
    if (order.status !== "brouillon") {
      location.replace(`demande.html?id=${encodeURIComponent(order.id)}`);
      return;
    }
    showPreviews();
  }
  if (!id && step && order) { // the draft made since, named
    history.replaceState({ step }, "", stepUrl(step));
    shownSearch = location.search;
  }
  if (!order && step > 1) step = 1; // no draft to preview: its officials are chosen first
  if (step === 0) {
    showIntro();
    return;
  }
  if (step === 1) {
    if (order) kept = new Set(order.cards.map((card) => card.official_id));
    await loadOfficials();
  }
  if (step === 3) {
    previewForm.elements.namedItem("preview_acknowledged").checked = true; // acknowledged to reach the summary
    showSummary();
  }
  showStep(step, { focus });
}

window.addEventListener("popstate", () => {
  if (location.search === shownSearch) return;
  shownSearch = location.search;
  start({ focus: true }).catch(showLoadError);
});
openSpace(["commune"]).then(() => start(), showLoadError);
