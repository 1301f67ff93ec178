// « Déclarer un élu absent du répertoire »: an official elected since the national directory's last snapshot, declared
// by the commune (POST /officials/declarations) with the procès-verbal d'élection (PDF, sent straight to the storage
// with the presigned POST the API gives, then checked by the service: GET /officials/{id} until it is).
// With ?elu=<id> (from the list « ELUS », or once declared): the declaration's follow-up, its status as the préfecture
// left it, and « Envoyer un autre procès-verbal » while the préfecture has not decided (POST .../proof-uploads).
import { api, uploadFile } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { personName } from "../commandes.js";
import {
  MAX_PROOF_BYTES, declarationBadge, declaredBadge, functionLabel, proofProblem, undecided, waitForProof,
} from "../declarations.js";
import { $, clearErrors, el, formValues, formatDate, hideAlert, onSubmit, showAlert, showFormError, whileBusy } from "../ui.js";
import { de } from "../typography.js";

const PAGE_TITLE = "Cartes d'identité des élus";
const form = $("#form-declaration");
const proofForm = $("#form-pv");
const pageAlert = $("#alerte-page");
let official = null;

// --- the declaration -----------------------------------------------------------------------------------------------

/** The functions' labels follow the sex chosen (« Adjointe au maire »), as on the card. */
function showFunctionLabels() {
  const sex = form.querySelector("input[name=sex]:checked")?.value || "";
  form.querySelectorAll("label[data-function]").forEach((label) => {
    label.textContent = functionLabel(label.dataset.function, sex);
  });
}

form.addEventListener("change", (event) => {
  if (event.target.name === "sex") showFunctionLabels();
});

function progressOf(prefix) {
  const bar = $(`#${prefix}-progression`);
  const text = $(`#${prefix}-pourcentage`);
  return (fraction) => {
    const percent = Math.round(fraction * 100);
    bar.value = percent;
    bar.textContent = `${percent} %`;
    text.textContent = `${percent} %`;
  };
}

/** What is missing or wrong before anything is sent: {field name: message}. */
async function localProblems() {
  const values = formValues(form);
  const problems = {};
  for (const [name, message] of [["last_name", "Indiquez le nom de l'élu."], ["first_name", "Indiquez le prénom de l'élu."],
    ["sex", "Sélectionnez le sexe de l'élu."], ["birth_date", "Indiquez la date de naissance de l'élu (jj/mm/aaaa)."],
    ["function", "Sélectionnez la fonction de l'élu."], ["election_date", "Indiquez la date de l'élection (jj/mm/aaaa)."]]) {
    if (!values[name]) problems[name] = message;
  }
  const file = form.elements.namedItem("file").files[0];
  const problem = await proofProblem(file);
  if (problem) problems.file = problem;
  return problems;
}

/** The procès-verbal to the storage, then the service's check of it: {official, checked} or throws (upload failed). */
async function sendProof(upload, file, prefix) {
  const problem = await proofProblem(file, upload.max_bytes || MAX_PROOF_BYTES);
  if (problem) throw Object.assign(new Error(problem), { code: "invalid_proof" });
  const before = official.declaration || {};
  const setProgress = progressOf(prefix);
  const status = $(`#${prefix}-statut`);
  setProgress(0);
  $(`#${prefix}-envoi`).hidden = false;
  status.textContent = "Envoi du procès-verbal en cours…";
  try {
    await uploadFile(upload, file, setProgress);
    status.textContent = "Procès-verbal envoyé. Vérification du fichier…";
    return await waitForProof(official.id, before);
  } finally {
    $(`#${prefix}-envoi`).hidden = true;
    status.textContent = "";
  }
}

onSubmit(form, async () => {
  clearErrors(form);
  hideAlert(pageAlert);
  const problems = await localProblems();
  if (Object.keys(problems).length) {
    showFormError(form, { code: "missing_fields", message: "Certains champs ne sont pas remplis correctement.",
      details: problems }, { title: "La déclaration est incomplète" });
    return;
  }
  const file = form.elements.namedItem("file").files[0];
  const values = formValues(form);
  await whileBusy(form, async () => {
    let declared;
    try {
      declared = await api.post("/officials/declarations", {
        last_name: values.last_name, first_name: values.first_name, sex: values.sex, birth_date: values.birth_date,
        election_date: values.election_date, function: values.function });
    } catch (error) {
      let extra = null;
      if (error.code === "already_in_directory") {
        extra = el("p", {}, el("a", { href: `elu-nouveau.html?q=${encodeURIComponent(values.last_name)}`,
          text: `Choisir ${values.first_name} ${values.last_name} dans le répertoire («\u00a0Enregistrer un élu\u00a0»)` }));
      } else if (error.code === "already_registered") {
        extra = el("p", {}, el("a", { href: "elus.html", text: "Voir la liste des élus enregistrés" }));
      }
      showFormError(form, error, { title: "L'élu n'a pas été déclaré", extra });
      return;
    }
    official = declared.official;
    history.replaceState(null, "", `elu-declaration.html?elu=${encodeURIComponent(official.id)}`);
    try {
      const { official: checked, checked: done } = await sendProof(declared.proof_upload, file, "declaration");
      if (checked) official = checked;
      showFollowUp({ notice: proofNotice(done, { declared: true }) });
    } catch (error) {
      showFollowUp({ notice: { type: "warning", title: `${personName(official)} est déclaré${official.sex === "F" ? "e" : ""}, `
        + "mais le procès-verbal n'a pas été envoyé", message: `${error.message} Envoyez-le à nouveau ci-dessous.` } });
    }
  });
});

// --- the follow-up -------------------------------------------------------------------------------------------------

/** The alert shown once a procès-verbal was sent, from the declaration as the service left it. */
function proofNotice(checked, { declared = false } = {}) {
  const declaration = official.declaration || {};
  const name = personName(official);
  const who = `${name} est déclaré${official.sex === "F" ? "e" : ""} par la commune`;
  if (declaration.status === "awaiting_proof" && declaration.reason) {
    return { type: "error", title: "Le procès-verbal n'a pas été accepté",
      message: `${declared ? `${who}, mais le` : "Le"} procès-verbal ne convient pas\u00a0: ${declaration.reason}` };
  }
  if (!checked) {
    return { type: "info", title: declared ? `${who}\u00a0: le procès-verbal est en cours de vérification` : "Procès-verbal envoyé",
      message: "La vérification du fichier prend plus de temps que prévu. Rechargez la page dans quelques instants "
        + "pour voir où en est la déclaration." };
  }
  return { type: "success", title: declared ? "Déclaration envoyée à la préfecture" : "Nouveau procès-verbal reçu",
    message: `${declared ? `${who}. ` : ""}La préfecture de votre département va vérifier la déclaration au vu du `
      + "procès-verbal d'élection." };
}

function fact(term, value) {
  return [el("dt", { text: term }), el("dd", {}, value)];
}

function stateText(declaration) {
  const name = personName(official);
  switch (declaration.status) {
    case "awaiting_proof":
      return declaration.reason
        ? `Le procès-verbal envoyé n'a pas été accepté\u00a0: ${declaration.reason} Envoyez-le à nouveau ci-dessous, au format PDF.`
        : "La déclaration attend le procès-verbal d'élection\u00a0: envoyez-le ci-dessous. Elle sera ensuite transmise "
          + "à la préfecture de votre département.";
    case "pending":
      return "La préfecture de votre département vérifie la déclaration au vu du procès-verbal d'élection. Les agents "
        + "de la commune seront informés de sa décision par courriel. La carte pourra être commandée une fois la "
        + "déclaration validée.";
    case "validated":
      return `La préfecture a validé la déclaration\u00a0: la carte ${de(name)} peut être commandée dès que sa photo `
        + "est prête, depuis la page «\u00a0Demandes\u00a0».";
    case "refused":
      return `La préfecture a refusé la déclaration\u00a0: la carte ${de(name)} ne peut pas être commandée. Pour toute `
        + "question, contactez la préfecture de votre département.";
    default:
      return "";
  }
}

function showFollowUp({ notice = null, focus = true } = {}) {
  const declaration = official.declaration;
  const name = personName(official);
  $("#declaration").hidden = true;
  $("#suivi").hidden = false;
  $("#titre-page").textContent = `Déclaration ${de(name)}`;
  document.title = `Déclaration ${de(name)} — ${PAGE_TITLE}`;
  if (!declaration) { // an official of the directory: nothing to follow here
    $("#suivi").hidden = true;
    showAlert(pageAlert, { type: "info", title: `${name} figure au répertoire national des élus`,
      message: "Aucune déclaration n'est nécessaire pour cet élu.",
      extra: el("p", {}, el("a", { href: "elus.html", text: "Voir la liste des élus" })), focus: false });
    return;
  }
  $("#suivi-badges").replaceChildren(declaredBadge(official, { small: false }), declarationBadge(declaration, { small: false }));
  const facts = [
    ...fact("Fonction", official.function_label),
    ...fact("Date de naissance", formatDate(official.birth_date)),
    ...fact("Date de l'élection", formatDate(declaration.election_date)),
    ...fact("Statut de la déclaration", declaration.status_label),
  ];
  if (declaration.status === "refused" && declaration.reason) facts.push(...fact("Motif du refus", declaration.reason));
  if (declaration.linked_to_directory) {
    facts.push(...fact("Répertoire national des élus", `${name} y figure désormais.`));
  }
  $("#suivi-faits").replaceChildren(...facts);
  $("#suivi-etat").replaceChildren(el("div", { class: `fr-callout ${declaration.status === "refused" ? "fr-callout--pink-tuile" : ""}` },
    el("p", { class: "fr-callout__text", text: stateText(declaration) })));
  const open = undecided(declaration);
  $("#nouveau-pv").hidden = !open;
  if (open) {
    const first = declaration.status === "awaiting_proof";
    $("#nouveau-pv-titre").textContent = first ? "Envoyer le procès-verbal" : "Envoyer un autre procès-verbal";
    $("#nouveau-pv-aide").textContent = first
      ? "Le procès-verbal de l'élection de l'élu, au format PDF. Une copie numérisée convient."
      : "Tant que la préfecture n'a pas examiné la déclaration, vous pouvez remplacer le procès-verbal envoyé (par "
        + "exemple par une copie plus lisible).";
  }
  const photo = $("#lien-photo");
  photo.href = `elu-nouveau.html?elu=${encodeURIComponent(official.id)}`;
  photo.textContent = official.photo?.ready ? "Changer la photo" : "Ajouter la photo";
  photo.closest("li").hidden = declaration.status === "refused" || Boolean(official.card_in_progress);
  if (notice) showAlert(pageAlert, notice);
  else if (focus) $("#titre-page").focus();
}

onSubmit(proofForm, async () => {
  clearErrors(proofForm);
  hideAlert(pageAlert);
  const file = proofForm.elements.namedItem("file").files[0];
  const problem = await proofProblem(file);
  if (problem) {
    showFormError(proofForm, { code: "invalid_proof", message: problem, details: { file: problem } },
      { title: "Le procès-verbal ne convient pas" });
    return;
  }
  await whileBusy(proofForm, async () => {
    let upload;
    try {
      upload = await api.post(`/officials/${encodeURIComponent(official.id)}/proof-uploads`, {});
    } catch (error) {
      if (error.code === "declaration_reviewed") { // decided meanwhile: the declaration as it is now
        official = await api.get(`/officials/${encodeURIComponent(official.id)}`).catch(() => official);
        showFollowUp({ notice: { title: "Le procès-verbal n'a pas été envoyé", message: error.message } });
      } else {
        showFormError(proofForm, error, { title: "Le procès-verbal n'a pas été envoyé" });
      }
      return;
    }
    try {
      const { official: checked, checked: done } = await sendProof(upload, file, "pv");
      if (checked) official = checked;
      proofForm.reset();
      showFollowUp({ notice: proofNotice(done) });
    } catch (error) {
      showFormError(proofForm, { code: error.code, message: error.message, details: { file: error.message } },
        { title: "Le procès-verbal n'a pas été envoyé" });
    }
  });
});

// --- opening -------------------------------------------------------------------------------------------------------

async function start() {
  const id = new URLSearchParams(location.search).get("elu");
  if (!id) {
    showFunctionLabels();
    return;
  }
  $("#declaration").hidden = true;
  try {
    official = await api.get(`/officials/${encodeURIComponent(id)}`);
  } catch (error) {
    $("#titre-page").textContent = "Déclaration introuvable";
    document.title = `Déclaration introuvable — ${PAGE_TITLE}`;
    showAlert(pageAlert, { title: "Cette déclaration n'a pas pu être affichée", message: error.message,
      extra: el("p", {}, el("a", { href: "elus.html", text: "Voir la liste des élus" })) });
    return;
  }
  showFollowUp({ focus: false });
}

openSpace(["commune"]).then(start, showLoadError);
