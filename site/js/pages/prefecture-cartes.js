// « Registre des cartes » of a préfecture: a card by its number (GET /admin/cards?number=) or the cards of one status
// (GET /admin/cards?status=), and one card (?numero=, GET /admin/cards/{number}) with what may be done on it now
// (its `actions`): hand it over, to the official in person or to a representative of the town hall
// (POST /admin/cards/{number}/hand-over), print the receipt to sign (GET …/hand-over-receipt), attach the signed scan
// (POST …/receipt-uploads, the presigned POST, then POST …/receipt), record its return and its destruction
// (POST …/return, …/destroy). Every move asks for confirmation first (the DSFR modal of confirmation.js).
import { api, uploadFile } from "../api.js";
import { openSpace, showLoadError } from "../espace.js";
import { addDownloads } from "../exports.js";
import { CARD_STATUSES, cardBadge, cardHistoryRows, cardName, handOverText } from "../cartes.js";
import { confirmMove } from "../confirmation.js";
import { MAX_RECEIPT_BYTES } from "../constants.js";
import {
  $, checkRequired, clearErrors, el, formValues, formatDate, formatDateTime, hideAlert, onSubmit, showAlert,
  showFormError, whileBusy,
} from "../ui.js";

const RECEIPT_TYPES = ["application/pdf", "image/jpeg"];
const registryAlert = $("#alerte-registre");
const cardAlert = $("#alerte-carte");
const list = $("#liste-cartes");
const more = $("#bouton-plus");
const panel = $("#carte");
let query = null;
let next = null;
let shown = 0;
addDownloads(list, "/admin/exports/cards", () => query || {});

for (const [code, label] of CARD_STATUSES) {
  $("#statut").append(el("option", { value: code, text: label, selected: code === "livree" }));
}

// --- the list --------------------------------------------------------------------------------------------------------

function row(card) {
  return el("tr", { "data-carte": card.number },
    el("th", { scope: "row" }, el("a", { href: `?numero=${encodeURIComponent(card.number)}`, text: card.number,
      "aria-label": `Ouvrir la carte n°\u00a0${card.number}`, "data-open": card.number })),
    el("td", { text: card.commune_name }),
    el("td", {}, `${card.last_name} ${card.first_name}`, el("span", { class: "fr-hint-text", text: card.function_label })),
    el("td", {}, cardBadge(card)),
    el("td", { text: formatDateTime(card.updated_at) }));
}

function render(page, append, empty) {
  const rows = page.items.map(row);
  if (append) list.append(...rows);
  else if (rows.length) list.replaceChildren(...rows);
  else list.replaceChildren(el("tr", {}, el("td", { colSpan: 5, text: empty })));
  shown = (append ? shown : 0) + page.items.length;
  next = page.next;
  more.hidden = !next;
  $("#nombre-cartes").textContent = shown ? `${shown} carte${shown > 1 ? "s" : ""}${next ? " affichées (il y en a d'autres)" : ""}.` : "";
}

async function search(params, empty) {
  query = params;
  const page = await api.get(`/admin/cards?${params}`);
  render(page, false, empty);
  return page;
}

list.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-open]");
  if (!link) return;
  event.preventDefault();
  history.replaceState(null, "", `?numero=${encodeURIComponent(link.dataset.open)}`);
  openCard(link.dataset.open).catch((error) => showAlert(registryAlert, { title: "La carte n'a pas pu être ouverte",
    message: error.message }));
});

more.addEventListener("click", async () => {
  more.disabled = true;
  try {
    const params = new URLSearchParams(query);
    params.set("cursor", next);
    const page = await api.get(`/admin/cards?${params}`);
    render(page, true, "");
  } catch (error) {
    showAlert(registryAlert, { title: "Les cartes suivantes n'ont pas pu être chargées", message: error.message });
  } finally {
    more.disabled = false;
  }
});

onSubmit($("#form-numero"), async () => {
  const form = $("#form-numero");
  clearErrors(form);
  if (!checkRequired(form, { title: "Indiquez le numéro de la carte" })) return;
  const { number } = formValues(form);
  await whileBusy(form, async () => {
    try {
      const page = await search(new URLSearchParams({ number }), `Aucune carte n°\u00a0${number} dans le département.`);
      if (page.items.length === 1) await openCard(page.items[0].number);
    } catch (error) {
      showFormError(form, error, { title: "La recherche n'a pas abouti" });
    }
  });
});

onSubmit($("#form-statut"), async () => {
  const form = $("#form-statut");
  const { status } = formValues(form);
  const label = CARD_STATUSES.find(([code]) => code === status)?.[1] || status;
  await whileBusy(form, async () => {
    try {
      await search(new URLSearchParams({ status }), `Aucune carte «\u00a0${label}\u00a0» dans le département.`);
    } catch (error) {
      showFormError(form, error, { title: "Les cartes n'ont pas pu être affichées" });
    }
  });
});

// --- one card --------------------------------------------------------------------------------------------------------

function facts(card) {
  const items = [
    ["Élu", `${card.first_name} ${card.last_name}`],
    ["Fonction", card.function_label],
    ["Commune", `${card.commune_name} (SIREN ${card.siren})`],
    ["Motif de la demande", card.reason_label + (card.replaces ? ` — remplace la carte n°\u00a0${card.replaces}` : "")],
  ];
  if (card.hand_over) items.push(["Remise", handOverText(card)]);
  if (card.declaration) {
    const d = card.declaration;
    items.push(["Déclaration", `${d.kind === "vol" ? "Vol" : "Perte"} du ${formatDate(d.date)}\u00a0: ${d.circumstances}`
      + (d.police_report ? ` (plainte ${d.police_report})` : "")]);
  }
  const list = [];
  for (const [term, value] of items) list.push(el("dt", { text: term }), el("dd", { text: value }));
  list.push(el("dt", { text: "Demande" }), el("dd", {}, el("a", { href: `gestion-demande.html?id=${encodeURIComponent(card.order_id)}`,
    text: "Voir la demande" })));
  return list;
}

function representativeFields(prefix) {
  const field = (name, label, autocomplete) => el("div", { class: "fr-input-group" },
    el("label", { class: "fr-label", for: `${prefix}-${name}`, text: label }),
    el("input", { class: "fr-input", type: "text", id: `${prefix}-${name}`, name, maxLength: 100, autocomplete }));
  return el("div", { id: `${prefix}-champs-representant`, hidden: true },
    field("last_name", "Nom du représentant", "family-name"),
    field("first_name", "Prénom du représentant", "given-name"),
    field("quality", "Qualité (par exemple secrétaire de mairie, adjoint au maire)", "organization-title"));
}

function handOverForm(card) {
  const prefix = "remise";
  const radio = (value, label, hint) => el("div", { class: "fr-fieldset__element" },
    el("div", { class: "fr-radio-group" },
      el("input", { type: "radio", id: `${prefix}-${value}`, name: "mode", value, required: true, checked: value === "titulaire" }),
      el("label", { class: "fr-label", for: `${prefix}-${value}` }, label, el("span", { class: "fr-hint-text", text: hint }))));
  const form = el("form", { method: "post", noValidate: true, "data-alert": "alerte-carte", id: "form-remise" },
    el("fieldset", { class: "fr-fieldset" },
      el("legend", { class: "fr-fieldset__legend", text: "Remettre la carte" }),
      radio("titulaire", "Au titulaire, en personne", "L'élu signe le récépissé nominatif."),
      radio("representant", "À un représentant de la mairie",
        "Le représentant signe un transfert de responsabilité et remet la carte à l'élu.")),
    representativeFields(prefix),
    el("button", { type: "submit", class: "fr-btn fr-icon-check-line fr-btn--icon-left", text: "Enregistrer la remise" }));
  const extra = form.querySelector(`#${prefix}-champs-representant`);
  form.addEventListener("change", () => {
    const toRepresentative = formValues(form).mode === "representant";
    extra.hidden = !toRepresentative;
    extra.querySelectorAll("input").forEach((input) => { input.required = toRepresentative; });
  });
  onSubmit(form, async () => {
    clearErrors(form);
    if (!checkRequired(form, { title: "La remise n'a pas été enregistrée" })) return;
    const values = formValues(form);
    const body = { mode: values.mode };
    let to = `à ${card.first_name} ${card.last_name}, en personne`;
    if (values.mode === "representant") {
      body.representative = { last_name: values.last_name, first_name: values.first_name, quality: values.quality };
      to = `à ${values.first_name} ${values.last_name} (${values.quality}), représentant la mairie`;
    }
    const yes = await confirmMove({ title: "Enregistrer la remise", confirmLabel: "Enregistrer la remise",
      message: `La ${cardName(card)} est remise ${to}. Cette remise ne pourra plus être modifiée.` });
    if (!yes) return;
    await whileBusy(form, () => move(card, "hand-over", body, form, "Carte remise",
      (moved) => `${handOverText(moved)}. Imprimez le récépissé, faites-le signer, puis joignez-le numérisé.`));
  });
  return form;
}

function receiptBlock(card) {
  const block = el("div", { class: "fr-mt-3w" }, el("h3", { class: "fr-h6", text: "Récépissé de remise" }));
  const print = el("button", { type: "button", class: "fr-btn fr-btn--secondary fr-icon-printer-line fr-btn--icon-left",
    text: card.hand_over.representative ? "Imprimer le transfert de responsabilité (PDF)" : "Imprimer le récépissé nominatif (PDF)" });
  print.addEventListener("click", async () => {
    print.disabled = true;
    try {
      const { url } = await api.get(`/admin/cards/${encodeURIComponent(card.number)}/hand-over-receipt`);
      window.open(url, "_blank", "noopener");
    } catch (error) {
      showAlert(cardAlert, { title: "Le récépissé n'a pas pu être préparé", message: error.message });
    } finally {
      print.disabled = false;
    }
  });
  block.append(el("p", {}, print));
  if (card.receipt_url) {
    block.append(el("p", {}, el("a", { class: "fr-link fr-icon-file-line fr-link--icon-left", href: card.receipt_url,
      target: "_blank", rel: "noopener", text: "Voir le récépissé signé", title: "Voir le récépissé signé — nouvelle fenêtre" })));
  }
  const form = el("form", { method: "post", noValidate: true, "data-alert": "alerte-carte", id: "form-recepisse" },
    el("div", { class: "fr-upload-group" },
      el("label", { class: "fr-label", for: "recepisse" }, card.receipt_url ? "Remplacer le récépissé signé" : "Joindre le récépissé signé",
        el("span", { class: "fr-hint-text", text: "Numérisé, au format PDF ou JPEG, 10 Mo au plus." })),
      el("input", { class: "fr-upload", type: "file", id: "recepisse", name: "receipt", accept: "application/pdf,image/jpeg", required: true })),
    el("button", { type: "submit", class: "fr-btn fr-btn--secondary fr-icon-upload-line fr-btn--icon-left fr-mt-2w", text: "Envoyer le récépissé" }));
  onSubmit(form, async () => {
    clearErrors(form);
    if (!checkRequired(form, { title: "Le récépissé n'a pas été envoyé" })) return;
    const file = form.querySelector("input[type=file]").files[0];
    const refuse = (message) => showFormError(form, { code: "invalid_file", message, details: { receipt: message } },
      { title: "Le récépissé n'a pas été envoyé" });
    if (!RECEIPT_TYPES.includes(file.type)) return refuse("Le récépissé signé doit être un PDF ou une image JPEG.");
    if (file.size > MAX_RECEIPT_BYTES) return refuse("Le fichier dépasse 10 Mo : numérisez le récépissé en plus basse résolution.");
    await whileBusy(form, async () => {
      try {
        const number = encodeURIComponent(card.number);
        const upload = await api.post(`/admin/cards/${number}/receipt-uploads`, {});
        await uploadFile(upload, file);
        const attached = await api.post(`/admin/cards/${number}/receipt`, { upload_id: upload.upload_id });
        showCard(attached);
        showAlert(cardAlert, { type: "success", title: "Récépissé joint",
          message: `Le récépissé signé est conservé avec la carte n°\u00a0${attached.number}.` });
      } catch (error) {
        showFormError(form, error, { title: "Le récépissé n'a pas été envoyé", fieldOfCode: {
          invalid_file_type: "receipt", file_too_large: "receipt" } });
      }
    });
  });
  block.append(form);
  return block;
}

function moveButton(card, action, label, { title, message, done, className = "fr-btn--secondary", icon }) {
  const button = el("button", { type: "button", class: `fr-btn ${className} ${icon} fr-btn--icon-left`, text: label });
  button.addEventListener("click", async () => {
    if (!await confirmMove({ title, message, confirmLabel: label })) return;
    button.disabled = true;
    try {
      await move(card, action, {}, null, done, () => "");
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

async function move(card, action, body, form, title, describe) {
  hideAlert(cardAlert);
  try {
    const moved = await api.post(`/admin/cards/${encodeURIComponent(card.number)}/${action}`, body);
    showCard(moved);
    showAlert(cardAlert, { type: "success", title: `${title}\u00a0: carte n°\u00a0${moved.number}`,
      message: describe(moved) || `La carte est maintenant «\u00a0${moved.status_label}\u00a0».` });
  } catch (error) {
    if (form) showFormError(form, error, { title: "L'opération n'a pas été enregistrée" });
    else showAlert(cardAlert, { title: "L'opération n'a pas été enregistrée", message: error.message });
  }
}

function actions(card) {
  const blocks = [];
  if (card.actions.includes("hand_over")) blocks.push(handOverForm(card));
  if (card.actions.includes("attach_receipt")) blocks.push(receiptBlock(card));
  const buttons = [];
  if (card.actions.includes("return")) {
    buttons.push(moveButton(card, "return", "Enregistrer la restitution", { icon: "fr-icon-arrow-go-back-line",
      title: "Enregistrer la restitution", done: "Carte restituée",
      message: `La ${cardName(card)} a été rendue à la préfecture. Elle ne pourra plus être utilisée.` }));
  }
  if (card.actions.includes("destroy")) {
    buttons.push(moveButton(card, "destroy", "Enregistrer la destruction", { icon: "fr-icon-delete-line",
      title: "Enregistrer la destruction", done: "Carte détruite",
      message: `La ${cardName(card)} a été détruite. Cette opération est définitive.` }));
  }
  if (card.undo) {
    buttons.push(moveButton(card, "undo", `Annuler «\u00a0${card.undo.label}\u00a0»`, { icon: "fr-icon-arrow-go-back-line",
      className: "fr-btn--tertiary", title: `Annuler «\u00a0${card.undo.label}\u00a0»`, done: "Opération annulée",
      message: `La dernière opération sur la ${cardName(card)} est annulée (possible jusqu'à ${formatDateTime(card.undo.until)}).` }));
  }
  if (buttons.length) {
    blocks.push(el("ul", { class: "fr-btns-group fr-btns-group--inline-md fr-mt-3w" },
      buttons.map((button) => el("li", {}, button))));
  }
  if (!blocks.length) {
    blocks.push(el("p", { class: "app-muted", text: card.status === "en_fabrication"
      ? "La carte est en fabrication\u00a0: elle pourra être remise une fois livrée à la préfecture."
      : "Aucune opération n'est possible sur cette carte." }));
  }
  return blocks;
}

function showCard(card) {
  $("#titre-carte").textContent = `Carte n°\u00a0${card.number}`;
  $("#carte-statut").replaceChildren(cardBadge(card));
  $("#carte-faits").replaceChildren(...facts(card));
  $("#carte-actions").replaceChildren(...actions(card));
  $("#carte-historique").replaceChildren(...cardHistoryRows(card));
  panel.hidden = false;
}

async function openCard(number) {
  hideAlert(cardAlert);
  const card = await api.get(`/admin/cards/${encodeURIComponent(number)}`);
  showCard(card);
  panel.focus();
}

openSpace(["prefecture"]).then(async () => {
  const number = new URLSearchParams(location.search).get("numero");
  try {
    if (number) {
      $("#numero").value = number;
      await search(new URLSearchParams({ number }), `Aucune carte n°\u00a0${number} dans le département.`);
      await openCard(number);
    } else {
      await search(new URLSearchParams({ status: "livree" }), "Aucune carte livrée en attente de remise.");
    }
  } catch (error) {
    showAlert(registryAlert, { title: "Le registre n'a pas pu être chargé", message: error.message });
  }
}, showLoadError);
