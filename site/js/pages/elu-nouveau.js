// « Enregistrer un élu »: 1. choose the official in the commune's directory (GET /directory?q=), 2. their function
// (POST /officials), 3. « Ajouter » their photo: « Parcourir », framing, « Terminer » (POST photo-uploads, the file
// straight to the storage, then GET /officials/{id} until the photo is ready or refused).
// With ?elu=<id> (from the list « ELUS »): step 3 only, to add or change the photo of a registered official.
// The step is in the address (history.pushState): step 2 is ?choix=<directory id>, step 3 ?elu=<official id> (the
// official is registered then: Back leads to the list of step 1), so that Back and a reload keep the person there.
import { api, uploadFile } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { personName, sleep } from "../commandes.js";
import { MAX_PHOTO_BYTES as MAX_BYTES } from "../constants.js";
import { Framing, FramingError, MIN_CROP } from "../recadrage.js";
import {
  $, clearErrors, el, formatDate, hideAlert, onSubmit, showAlert, showFormError, whileBusy,
} from "../ui.js";
import { de } from "../typography.js";

const STEPS = ["Choisir l'élu", "Fonction de l'élu", "Photo de l'élu"];
// The image function's own words (chalicelib/imaging/photo.py: a test keeps them identical), said here before any
// upload, so that a file the service would refuse never leaves the computer.
const REFUSALS = {
  empty: "Le fichier est vide.",
  notJpeg: "Le fichier n'est pas une image JPEG.",
  tooLarge: "Le fichier dépasse la taille maximale de 10 Mo.",
  tooSmall: (width, height) => `La photo est trop petite (${width} x ${height} pixels) : elle doit mesurer au moins `
    + `${MIN_CROP.width} x ${MIN_CROP.height} pixels. Utilisez une photo de meilleure définition.`,
};
const POLL_INTERVAL = 700;
const POLL_LIMIT = 90_000;

const searchForm = $("#form-elu");
const searchField = $("#recherche");
const results = $("#resultats");
const resultsCount = $("#resultats-compte");
const functionForm = $("#form-fonction");
const photoForm = $("#form-photo");
const photoAlert = $("#alerte-photo");
const fileInput = $("#photo-fichier");
const browseButton = $("#bouton-parcourir");
const fileName = $("#photo-nom");
const progress = $("#envoi-progression");
const progressText = $("#envoi-pourcentage");
const photoStatus = $("#photo-statut");

let entries = new Map(); // directory id -> entry, as last found
let chosen = null; // the directory entry chosen at step 1
let official = null; // the official once registered
let framing = null;
let searchTimer = null;
let searchNumber = 0;
let openedForOfficial = false; // opened with ?elu=: the photo step only
// The query the page shows: a link to #an-anchor also fires popstate, with the same query, and is no step.
let shownSearch = location.search;

// --- the stepper ---------------------------------------------------------------------------------------------------

function showStep(number, { focus = true } = {}) {
  for (let index = 1; index <= STEPS.length; index += 1) {
    $(`#etape-${index}`).hidden = index !== number;
  }
  $("#etape-nom").textContent = STEPS[number - 1];
  $("#etape-etat").textContent = `Étape ${number} sur ${STEPS.length}`;
  $("#etape-barre").dataset.frCurrentStep = String(number);
  const next = $("#etape-suivante");
  next.hidden = number === STEPS.length;
  if (number < STEPS.length) $("#etape-suivante-nom").textContent = STEPS[number];
  document.title = `${STEPS[number - 1]} — Enregistrer un élu — Cartes d'identité des élus`;
  if (focus) $("#etape-titre").focus();
}

// --- step 1: the directory -----------------------------------------------------------------------------------------

function entryHint(entry) {
  const born = entry.birth_date ? `${entry.sex === "F" ? "née" : "né"} le ${formatDate(entry.birth_date)}` : "";
  const functions = entry.rne_functions.join(", ") || "Conseiller municipal";
  if (entry.registered) return `${functions} · déjà enregistré${entry.sex === "F" ? "e" : ""}`;
  if (!entry.eligible_functions.length) return `${functions} · pas de carte d'identité d'élu pour cette fonction`;
  return [functions, born].filter(Boolean).join(" · ");
}

function renderResults(items, query) {
  const selected = searchForm.elements.namedItem("directory_id");
  const previous = selected instanceof RadioNodeList ? selected.value : selected?.checked ? selected.value : "";
  entries = new Map(items.map((entry) => [entry.id, entry]));
  results.replaceChildren(...items.map((entry, index) => {
    const id = `elu-${index}`;
    const selectable = !entry.registered && entry.eligible_functions.length > 0;
    return el("div", { class: "fr-fieldset__element" },
      el("div", { class: "fr-radio-group" },
        el("input", { type: "radio", id, name: "directory_id", value: entry.id, disabled: !selectable,
          checked: selectable && entry.id === previous }),
        el("label", { class: "fr-label", for: id }, `${entry.last_name} ${entry.first_name}`,
          el("span", { class: "fr-hint-text", text: entryHint(entry) }))));
  }));
  const selectable = items.filter((entry) => !entry.registered && entry.eligible_functions.length).length;
  if (!items.length) {
    resultsCount.textContent = (query ? `Aucun élu ne correspond à « ${query} ».` : "Aucun élu n'est connu du répertoire pour votre commune.")
      + " Un élu absent du répertoire peut être déclaré par la commune («\u00a0Déclarer un élu absent du répertoire\u00a0»).";
  } else {
    resultsCount.textContent = `${items.length} élu${items.length > 1 ? "s" : ""} trouvé${items.length > 1 ? "s" : ""}, `
      + `dont ${selectable} pouvant être enregistré${selectable > 1 ? "s" : ""}.`;
  }
}

async function search() {
  const query = searchField.value.trim();
  const number = ++searchNumber;
  try {
    const page = await api.get(`/directory?q=${encodeURIComponent(query)}`);
    if (number === searchNumber) renderResults(page.items, query);
  } catch (error) {
    if (number === searchNumber) resultsCount.textContent = `La recherche n'a pas abouti\u00a0: ${error.message}`;
  }
}

searchField.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(search, 250);
});
searchField.addEventListener("keydown", (event) => {
  if (event.key === "Enter") { // search now, rather than send the form
    event.preventDefault();
    clearTimeout(searchTimer);
    search();
  }
});

onSubmit(searchForm, () => {
  clearErrors(searchForm);
  const checked = searchForm.querySelector("input[name=directory_id]:checked");
  if (!checked) {
    showFormError(searchForm, { code: "missing_fields", message: "Sélectionnez un élu dans la liste.",
      details: { directory_id: "Sélectionnez l'élu à enregistrer." } }, { title: "Aucun élu n'est sélectionné" });
    return;
  }
  chosen = entries.get(checked.value);
  history.pushState({ step: 2 }, "", `elu-nouveau.html?choix=${encodeURIComponent(chosen.id)}`);
  shownSearch = location.search;
  showFunctions();
  showStep(2);
});

// --- step 2: the function ------------------------------------------------------------------------------------------

function showFunctions() {
  clearErrors(functionForm);
  $("#fonction-legende").textContent = `Fonction ${de(chosen.first_name)} ${chosen.last_name}`;
  const options = chosen.eligible_functions;
  $("#fonctions").replaceChildren(...options.map((choice, index) => el("div", { class: "fr-fieldset__element" },
    el("div", { class: "fr-radio-group" },
      el("input", { type: "radio", id: `fonction-${index}`, name: "function", value: choice.code,
        checked: options.length === 1 }),
      el("label", { class: "fr-label", for: `fonction-${index}`, text: choice.label })))));
}

$("#bouton-precedent").addEventListener("click", () => {
  if (history.state?.step === 2) {
    history.back(); // as the browser's Back: the list as it was
    return;
  }
  history.replaceState({ step: 1 }, "", "elu-nouveau.html");
  shownSearch = location.search;
  showStep(1);
});

/** The directory entry the address names at step 2 (?choix=), found in the last search or in the commune's list. */
async function chosenFromAddress(id) {
  if (!entries.has(id)) {
    const page = await api.get("/directory?q=");
    for (const entry of page.items) entries.set(entry.id, entry);
  }
  const entry = entries.get(id);
  return entry && !entry.registered && entry.eligible_functions.length ? entry : null;
}

/** After Back or Forward: the step the address names. */
window.addEventListener("popstate", async () => {
  if (location.search === shownSearch) return;
  shownSearch = location.search;
  const params = new URLSearchParams(location.search);
  if (params.get("elu") || openedForOfficial) {
    // The photo step of a registered official opens as from the list « ELUS »; a page opened that way has no steps
    // 1 and 2 drawn: the address is opened anew.
    location.reload();
    return;
  }
  const id = params.get("choix");
  chosen = id ? await chosenFromAddress(id).catch(() => null) : null;
  if (chosen) {
    showFunctions();
    showStep(2);
  } else {
    showStep(1);
  }
});

onSubmit(functionForm, async () => {
  clearErrors(functionForm);
  const checked = functionForm.querySelector("input[name=function]:checked");
  if (!checked) {
    showFormError(functionForm, { code: "missing_fields", message: "Sélectionnez la fonction de l'élu.",
      details: { function: "Sélectionnez une fonction." } }, { title: "Aucune fonction n'est sélectionnée" });
    return;
  }
  await whileBusy(functionForm, async () => {
    try {
      official = await api.post("/officials", { directory_id: chosen.id, function: checked.value });
      history.replaceState(null, "", `elu-nouveau.html?elu=${encodeURIComponent(official.id)}`);
      shownSearch = location.search;
      showPhotoStep({ registered: true });
      showStep(3);
    } catch (error) {
      const extra = error.code === "already_registered"
        ? el("p", {}, el("a", { href: "elus.html", text: "Voir la liste des élus enregistrés" })) : null;
      showFormError(functionForm, error, { title: "L'élu n'a pas été enregistré",
        fieldOfCode: { function_not_eligible: "function" }, extra });
    }
  });
});

// --- step 3: the photo ---------------------------------------------------------------------------------------------

function showPhotoStep({ registered = false } = {}) {
  const name = personName(official);
  $("#photo-intro").textContent = registered
    ? `${name} est enregistré${official.sex === "F" ? "e" : ""} comme ${official.function_label.toLowerCase()}. `
      + "Ajoutez maintenant sa photo\u00a0: elle figurera sur la carte."
    : `${name}, ${official.function_label.toLowerCase()}.`;
  framing = framing || new Framing($("#cadrage-zone"), {
    alt: `Photo choisie pour ${name}, avec le cadre à placer sur le visage`,
    onChange: sayFrame,
  });
  showCurrent(official, $("#photo-actuelle"), "Photo actuelle");
  if (official.card_in_progress) {
    $("#bouton-ajouter").hidden = true;
    showAlert(photoAlert, { type: "info", title: "Photo non modifiable",
      message: "Une carte est en cours de commande pour cet élu\u00a0: sa photo ne peut pas être changée avant la "
        + "remise de la carte ou l'annulation de la demande.", focus: false });
    return;
  }
  $("#bouton-ajouter").hidden = false;
}

/** The ID photo and the card preview of `someone`, when ready, in `box` (hidden otherwise). */
function showCurrent(someone, box, title) {
  if (!someone.photo.ready || !someone.photo.url) {
    box.hidden = true;
    return;
  }
  const name = personName(someone);
  const figures = [el("figure", { class: "app-figure" },
    el("img", { src: someone.photo.url, alt: `Photo d'identité ${de(name)}`, class: "app-id-photo" }),
    el("figcaption", { class: "fr-text--xs fr-mt-1w fr-mb-0", text: "Photo d'identité" }))];
  if (someone.preview.url) {
    figures.push(el("figure", { class: "app-figure app-figure--card" },
      el("img", { src: someone.preview.url, alt: `Aperçu de la carte ${de(name)}, ${someone.function_label}`,
        class: "app-card-image" }),
      el("figcaption", { class: "fr-text--xs fr-mt-1w fr-mb-0", text: "Aperçu de la carte" })));
  }
  const checks = title === "Photo actuelle" ? someone.photo.checks || [] : [];
  box.replaceChildren(el("h3", { class: "fr-h6", text: title }), el("div", { class: "app-figures" }, figures),
    ...(checks.length ? [el("div", { class: `app-verdicts fr-mt-2w ${someone.photo.blocking ? "app-verdicts--error" : ""}` },
      el("p", { class: "fr-text--bold fr-mb-1w", text: someone.photo.blocking
        ? "Cette photo ne permet pas de commander la carte\u00a0:" : "Points à vérifier sur cette photo\u00a0:" }),
      el("ul", {}, checks.map((check) => el("li", { text: check.message }))))] : []));
  box.hidden = false;
}

$("#bouton-ajouter").addEventListener("click", (event) => {
  event.currentTarget.hidden = true;
  photoForm.hidden = false;
  browseButton.focus();
});

browseButton.addEventListener("click", () => fileInput.click());

function sayFrame(crop) {
  $("#cadrage-etat").textContent = `Zone retenue\u00a0: ${crop.width} × ${crop.height} pixels de la photo, `
    + `à ${crop.x} pixels du bord gauche et ${crop.y} du bord haut.`;
}

/** An error about the photo: next to « Parcourir » and in the alert above the form. */
function photoError(message, title = "La photo ne convient pas") {
  clearPhotoError();
  const group = $("#photo-groupe");
  group.classList.add("fr-upload-group--error");
  $("#photo-messages").append(el("p", { class: "fr-error-text", id: "photo-erreur", text: message }));
  browseButton.setAttribute("aria-describedby", "photo-aide photo-nom photo-erreur");
  showAlert(photoAlert, { title, message,
    items: [{ href: "#bouton-parcourir", text: "Choisir un autre fichier avec « Parcourir »" }] });
}

function clearPhotoError() {
  $("#photo-groupe").classList.remove("fr-upload-group--error");
  $("#photo-messages").replaceChildren();
  browseButton.setAttribute("aria-describedby", "photo-aide photo-nom");
  hideAlert(photoAlert);
}

/** A JPEG by its content (its first bytes), not by its name: a PNG renamed .jpg is not one. */
async function isJpeg(file) {
  const head = new Uint8Array(await file.slice(0, 3).arrayBuffer());
  return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

/** No upload under way: the progress bar hidden and back at 0 %. */
function resetProgress() {
  setProgress(0);
  $("#envoi").hidden = true;
}

fileInput.addEventListener("change", async () => {
  const file = fileInput.files[0];
  $("#resultat").hidden = true;
  resetProgress();
  $("#bouton-propose").hidden = true;
  if (!file) return;
  fileName.textContent = `Fichier choisi\u00a0: ${file.name}`;
  clearPhotoError();
  $("#cadrage").hidden = true;
  framing.destroy();
  if (!file.size) {
    photoError(REFUSALS.empty);
    return;
  }
  if (file.size > MAX_BYTES) {
    photoError(REFUSALS.tooLarge);
    return;
  }
  if (!(await isJpeg(file))) {
    photoError(`${REFUSALS.notJpeg} Choisissez une photo au format JPEG (.jpg ou .jpeg).`);
    return;
  }
  $("#cadrage").hidden = false;
  try {
    await framing.load(file);
  } catch (error) {
    $("#cadrage").hidden = true;
    photoError(error instanceof FramingError ? error.message : "La photo n'a pas pu être affichée.");
    return;
  }
  if (framing.tooSmall) photoError(REFUSALS.tooSmall(framing.size.width, framing.size.height));
});

document.querySelectorAll("[data-cadrage]").forEach((button) => {
  button.addEventListener("click", () => {
    const [dx, dy] = { haut: [0, -10], bas: [0, 10], gauche: [-10, 0], droite: [10, 0] }[button.dataset.cadrage]
      || [0, 0];
    if (button.dataset.cadrage === "agrandir") framing.resize(1.1);
    else if (button.dataset.cadrage === "reduire") framing.resize(1 / 1.1);
    else if (button.dataset.cadrage === "centrer") framing.reset();
    else if (button.dataset.cadrage === "propose") framing.setCrop(official.photo.proposed_crop);
    else framing.move(dx, dy);
  });
});

function setProgress(fraction) {
  const percent = Math.round(fraction * 100);
  progress.value = percent;
  progress.textContent = `${percent} %`;
  progressText.textContent = `${percent} %`;
}

/** GET /officials/{id} until this upload's photo is ready, or refused; the official as it is then (null: too long). */
async function waitForPhoto(uploadId, before) {
  const started = Date.now();
  let sawProcessing = false;
  while (Date.now() - started < POLL_LIMIT) {
    await sleep(POLL_INTERVAL);
    const current = await api.get(`/officials/${encodeURIComponent(official.id)}`);
    const photo = current.photo;
    if (photo.status === "processing") sawProcessing = true;
    // The kept photo's address names the upload it came from: an earlier photo is not taken for this one.
    if (photo.status === "ready" && photo.url && new URL(photo.url, location.href).pathname.includes(`/${uploadId}-`)) {
      return current;
    }
    if (photo.status === "rejected" && (sawProcessing || before.status !== "rejected"
      || before.reason !== photo.reason || Date.now() - started > 10_000)) {
      return current;
    }
  }
  return null;
}

/** GET /officials/{id} until a new framing of the kept photo (PUT .../photo/crop) is done. */
async function waitForFraming(crop) {
  const started = Date.now();
  while (Date.now() - started < POLL_LIMIT) {
    await sleep(POLL_INTERVAL);
    const current = await api.get(`/officials/${encodeURIComponent(official.id)}`);
    const photo = current.photo;
    if (photo.status === "rejected") return current;
    if (photo.status === "ready" && photo.crop && ["x", "y", "width", "height"].every((k) => photo.crop[k] === crop[k])) {
      return current;
    }
  }
  return null;
}

let uploaded = null; // the file whose photo is kept: « Terminer » then only frames it again (no new upload)

/** Send the photo, or only its new frame; `crop` null: the agent left the frame as shown, the assistant frames it. */
async function send(file, crop) {
  const before = official.photo;
  if (file === uploaded && official.photo.ready) {
    if (!crop) return official; // the frame shown is the one the photo was made with
    photoStatus.textContent = "Nouveau cadrage de la photo en cours…";
    await api.put(`/officials/${encodeURIComponent(official.id)}/photo/crop`, { crop });
    return waitForFraming(crop);
  }
  const upload = await api.post(`/officials/${encodeURIComponent(official.id)}/photo-uploads`, crop ? { crop } : {});
  setProgress(0);
  $("#envoi").hidden = false;
  photoStatus.textContent = "Envoi de la photo en cours…";
  await uploadFile(upload, file, setProgress);
  photoStatus.textContent = "Photo envoyée. Préparation de la photo d'identité et de l'aperçu de la carte…";
  const result = await waitForPhoto(upload.upload_id, before);
  if (result?.photo.status === "ready") uploaded = file;
  return result;
}

onSubmit(photoForm, async () => {
  clearPhotoError();
  const file = fileInput.files[0] || uploaded;
  if (!file || !framing.cropper) {
    photoError("Choisissez d'abord la photo de l'élu avec le bouton « Parcourir ».", "Aucune photo n'est choisie");
    return;
  }
  if (framing.tooSmall) {
    photoError(REFUSALS.tooSmall(framing.size?.width ?? 0, framing.size?.height ?? 0));
    return;
  }
  // A frame the agent never touched is not sent: the photo assistant frames the face by the norm.
  const crop = framing.touched ? framing.crop() : null;
  if (crop && (crop.width < MIN_CROP.width || crop.height < MIN_CROP.height)) {
    photoError(`Le cadre est trop petit\u00a0: agrandissez-le pour qu'il couvre au moins ${MIN_CROP.width} × `
      + `${MIN_CROP.height} pixels de la photo.`, "Le cadrage ne convient pas");
    return;
  }
  await whileBusy(photoForm, async () => {
    browseButton.disabled = true;
    try {
      const result = await send(file, crop);
      photoStatus.textContent = "";
      if (!result) {
        showAlert(photoAlert, { type: "warning", title: "La photo est encore en cours de traitement",
          message: "Sa préparation prend plus de temps que prévu. Consultez la liste des élus dans quelques "
            + "instants.", extra: el("p", {}, el("a", { href: "elus.html", text: "Voir la liste des élus" })) });
        return;
      }
      official = result;
      if (result.photo.status === "rejected") {
        resetProgress();
        photoError(result.photo.reason || "La photo n'a pas été acceptée.", "La photo a été refusée");
        return;
      }
      // The frame shows what the photo was made with (the assistant's framing when the agent left it).
      if (framing.cropper && result.photo.crop) {
        framing.setCrop(result.photo.crop, { byAgent: false });
        framing.touched = false; // « Terminer » again without touching it changes nothing
      }
      showResult();
    } catch (error) {
      resetProgress();
      photoStatus.textContent = "";
      photoError(error.message, "La photo n'a pas été envoyée");
    } finally {
      browseButton.disabled = false;
    }
  });
});

/** The ID photo, the card preview and the photo assistant's verdicts. With verdicts, the framing stays open below. */
function showResult() {
  const photo = official.photo;
  const checks = photo.checks || [];
  const errors = checks.filter((check) => check.level === "error");
  const warnings = checks.filter((check) => check.level !== "error");
  const name = personName(official);
  const box = $("#resultat-alerte");
  // The proposed framing centres the face found; with no face, it is only the largest centred frame.
  const proposed = photo.proposed_crop && !sameCrop(photo.proposed_crop, photo.crop)
    && !checks.some((check) => check.code === "no_face") ? photo.proposed_crop : null;
  $("#bouton-propose").hidden = !proposed || !framing.cropper;
  let advice = "";
  if (checks.length) {
    advice = framing.cropper
      ? `Ajustez le cadre sous la photo${proposed ? " (« Appliquer le cadrage proposé » place le visage selon la norme)" : ""}, `
        + "puis cliquez à nouveau sur « Terminer »\u00a0; ou choisissez une autre photo avec « Parcourir »."
      : "Choisissez la photo avec « Parcourir » pour la recadrer, ou choisissez-en une autre.";
  }
  if (errors.length) {
    box.className = "fr-alert fr-alert--error fr-mb-3w";
    $("#resultat-titre").textContent = `La photo ${de(name)} ne permet pas de commander sa carte`;
    $("#resultat-texte").textContent = `La photo est enregistrée, mais elle ne respecte pas la norme des photos d'identité. ${advice}`;
  } else if (warnings.length) {
    box.className = "fr-alert fr-alert--warning fr-mb-3w";
    $("#resultat-titre").textContent = `La photo ${de(name)} est enregistrée, avec des points à vérifier`;
    $("#resultat-texte").textContent = `La carte peut être commandée avec cette photo. Vérifiez toutefois ces points\u00a0: ${advice}`;
  } else {
    box.className = "fr-alert fr-alert--success fr-mb-3w";
    $("#resultat-titre").textContent = `La photo ${de(name)} est enregistrée`;
    $("#resultat-texte").textContent = "La photo d'identité et l'aperçu de la carte sont prêts. Vous pouvez répéter "
      + "l'opération pour les autres élus de la commune, puis commander leurs cartes.";
  }
  $("#resultat-verdicts").replaceChildren(...[...errors, ...warnings].map((check) => el("li", { text: check.message })));
  $("#resultat-verdicts").hidden = !checks.length;
  $("#photo-actuelle").hidden = true;
  showCurrent(official, $("#resultat-images"), "Photo d'identité et aperçu de la carte");
  $("#envoi").hidden = true;
  $("#resultat").hidden = false;
  photoForm.hidden = !checks.length; // nothing to fix: the framing closes (« Recadrer ou changer la photo » reopens it)
  $("#resultat-titre").focus();
}

function sameCrop(a, b) {
  return Boolean(a && b) && ["x", "y", "width", "height"].every((key) => Math.abs(a[key] - b[key]) <= 2);
}

$("#bouton-changer").addEventListener("click", () => {
  photoForm.hidden = false;
  if (framing.cropper) {
    $("#cadrage-zone").focus();
    $("#cadrage-zone").scrollIntoView({ block: "center" });
  } else {
    browseButton.focus();
  }
});

// --- opening -------------------------------------------------------------------------------------------------------

async function start() {
  const id = new URLSearchParams(location.search).get("elu");
  if (id) {
    openedForOfficial = true;
    try {
      official = await api.get(`/officials/${encodeURIComponent(id)}`);
    } catch (error) {
      showAlert($("#alerte-page"), { title: "Cet élu est introuvable", message: error.message,
        extra: el("p", {}, el("a", { href: "elus.html", text: "Voir la liste des élus" })) });
      $("#etapes").hidden = true;
      $("#etape-1").hidden = true;
      return;
    }
    $("#titre-page").textContent = official.photo.ready ? "Changer la photo d'un élu" : "Ajouter la photo d'un élu";
    showPhotoStep();
    showStep(3, { focus: false });
    document.title = `${$("#titre-page").textContent} — Cartes d'identité des élus`;
    $("#etapes").hidden = true; // the official is registered: only the photo step is left
    if (official.photo.ready) $("#bouton-ajouter").textContent = "Ajouter une nouvelle photo";
    return;
  }
  showStep(1, { focus: false });
  const query = new URLSearchParams(location.search).get("q"); // from the declaration page: the person is listed
  if (query) searchField.value = query;
  await search();
  const choice = new URLSearchParams(location.search).get("choix"); // a reload at step 2
  if (choice) {
    chosen = await chosenFromAddress(choice).catch(() => null);
    if (chosen) {
      showFunctions();
      showStep(2, { focus: false });
    } else {
      history.replaceState({ step: 1 }, "", "elu-nouveau.html");
      shownSearch = location.search;
    }
  }
}

openSpace(["commune"]).then(start, showLoadError);
