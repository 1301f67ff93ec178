/**
 * Form and message helpers in the DSFR's markup: an error next to each field (fr-input-group--error + fr-error-text,
 * tied to the field by aria-describedby), an alert above the form that receives the focus and links to each field.
 * Nothing here ever empties a field: what was typed stays after an error.
 */
import { formatWithOrdinalDay, punctuate } from "./typography.js";

const GROUPS = ".fr-input-group, .fr-select-group, .fr-upload-group, .fr-fieldset";
const ERROR_CLASS = {
  "fr-input-group": "fr-input-group--error",
  "fr-select-group": "fr-select-group--error",
  "fr-upload-group": "fr-upload-group--error",
  "fr-fieldset": "fr-fieldset--error",
};

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("data-") || name.startsWith("aria-") || ["id", "href", "role", "type", "for", "scope",
      "tabindex", "title", "name", "value"].includes(name)) node.setAttribute(name, value === true ? "" : value);
    else node[name] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The values of a form's named fields, trimmed (passwords excepted). */
export function formValues(form) {
  const values = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled || field.type === "file") continue;
    if ((field.type === "radio" || field.type === "checkbox") && !field.checked) continue;
    values[field.name] = field.type === "password" ? field.value : field.value.trim();
  }
  return values;
}

function fieldOf(form, name) {
  const field = form.elements.namedItem(name);
  if (!field) return null;
  return field instanceof RadioNodeList ? field[0] : field;
}

function labelOf(field) {
  // A choice among radio buttons or boxes is named by its group's legend, not by its first option.
  const group = (field.type === "radio" || field.type === "checkbox") && field.name
    && field.form?.querySelectorAll(`[name="${CSS.escape(field.name)}"]`).length > 1
    ? field.closest("fieldset")?.querySelector("legend") : null;
  if (group) {
    const copy = group.cloneNode(true);
    copy.querySelectorAll(".fr-hint-text").forEach((hint) => hint.remove());
    return copy.textContent.trim();
  }
  const label = field.labels && field.labels[0];
  if (label) {
    const copy = label.cloneNode(true);
    copy.querySelectorAll(".fr-hint-text").forEach((hint) => hint.remove());
    return copy.textContent.trim();
  }
  const legend = field.closest("fieldset")?.querySelector("legend");
  return legend ? legend.textContent.trim() : field.name;
}

function describedBy(field, add, remove) {
  const ids = new Set((field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean));
  if (remove) ids.delete(remove);
  if (add) ids.add(add);
  if (ids.size) field.setAttribute("aria-describedby", [...ids].join(" "));
  else field.removeAttribute("aria-describedby");
}

/** Remove every error shown in `form` (fields and its alert). */
export function clearErrors(form) {
  for (const message of form.querySelectorAll("[data-error-for]")) {
    const field = fieldOf(form, message.dataset.errorFor);
    if (field) {
      describedBy(field, null, message.id);
      field.removeAttribute("aria-invalid");
    }
    message.remove();
  }
  for (const error of Object.values(ERROR_CLASS)) {
    form.querySelectorAll(`.${error}`).forEach((group) => group.classList.remove(error));
  }
  const alert = alertOf(form);
  if (alert) hideAlert(alert);
}

/** Show `message` next to the field named `name`; false if the form has no such field. */
export function showFieldError(form, name, message) {
  const field = fieldOf(form, name);
  if (!field) return false;
  const group = field.closest(GROUPS);
  const id = `${field.id || name}-error`;
  const text = el("p", { class: "fr-error-text", id, "data-error-for": name, text: punctuate(message) });
  if (group) {
    for (const [base, error] of Object.entries(ERROR_CLASS)) {
      if (group.classList.contains(base)) group.classList.add(error);
    }
    const messages = group.querySelector(".fr-messages-group");
    if (messages) messages.prepend(text);
    else group.append(text);
  } else {
    field.after(text);
  }
  field.setAttribute("aria-invalid", "true");
  describedBy(field, id);
  return true;
}

function alertOf(form) {
  const id = form.dataset.alert;
  return id ? document.getElementById(id) : null;
}

export function hideAlert(alert) {
  alert.hidden = true;
  alert.replaceChildren();
  alert.className = "";
}

/**
 * Fill `alert` (an empty element with tabindex="-1") as a DSFR alert and move the focus to it.
 * `items` are links to fields: [{href, text}].
 */
export function showAlert(alert, { type = "error", title, message, items = [], extra = null, focus = true }) {
  const level = alert.dataset.heading || "h2";
  alert.className = `fr-alert fr-alert--${type} fr-mb-4w`;
  // The API's and the pages' messages with French punctuation's no-break spaces (typography.js).
  const children = [el(level, { class: "fr-alert__title", text: punctuate(title) })];
  if (message) children.push(el("p", { text: punctuate(message) }));
  if (items.length) {
    children.push(el("ul", {}, items.map((item) => el("li", {}, el("a", { href: item.href, text: punctuate(item.text) })))));
  }
  if (extra) children.push(extra);
  alert.replaceChildren(...children);
  alert.hidden = false;
  if (focus) alert.focus();
}

/**
 * Show an API (or local) error on `form`: each detail next to its field, and the alert with the message, links to the
 * fields in error and the wait for "too many attempts". `fieldOfCode` sends codes without details to a field.
 */
export function showFormError(form, error, { title, fieldOfCode = {}, extra = null } = {}) {
  clearErrors(form);
  const fields = {};
  if (error.details && typeof error.details === "object" && !Array.isArray(error.details)) {
    Object.assign(fields, error.details);
  }
  const codeField = fieldOfCode[error.code];
  if (codeField && !fields[codeField]) fields[codeField] = error.message;
  const items = [];
  for (const [name, message] of Object.entries(fields)) {
    if (typeof message !== "string") continue;
    if (showFieldError(form, name, message)) {
      const field = fieldOf(form, name);
      items.push({ href: `#${field.id}`, text: `${labelOf(field)}\u00a0: ${message}` });
    }
  }
  let message = error.message;
  if (error.code === "too_many_attempts" && error.retryAfter && !/\d/.test(message)) {
    message += ` Réessayez dans ${waitText(error.retryAfter)}.`;
  }
  const alert = alertOf(form);
  if (alert) {
    const onlyRepeats = items.length === 1 && items[0].text.endsWith(message);
    showAlert(alert, { title: title || "La demande n'a pas abouti", message: onlyRepeats ? null : message, items, extra });
  } else if (items.length) {
    fieldOf(form, Object.keys(fields)[0])?.focus();
  }
}

export function waitText(seconds) {
  const minutes = Math.max(1, Math.round(seconds / 60));
  return minutes >= 2 ? `${minutes} minutes` : "1 minute";
}

/** Fields left empty: "Ce champ est obligatoire." next to each; true if all required fields are filled. */
export function checkRequired(form, { title } = {}) {
  const missing = {};
  for (const field of form.elements) {
    if (!field.required || field.disabled) continue;
    const empty = field.type === "file" ? field.files.length === 0 : !field.value.trim();
    if (empty) missing[field.name] = field.type === "file" ? "Choisissez un fichier." : "Ce champ est obligatoire.";
  }
  if (!Object.keys(missing).length) return true;
  showFormError(form, { code: "missing_fields", message: "Certains champs obligatoires ne sont pas remplis.", details: missing },
    { title: title || "Le formulaire est incomplet" });
  return false;
}

/**
 * Handle the form's submission in the page. The pages' submit buttons are disabled until this is called, and forms
 * use method="post": a form sent before its script is ready can never put a password in an address.
 */
export function onSubmit(form, handler) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    handler(event);
  });
  form.querySelectorAll("button[type=submit]").forEach((button) => { button.disabled = false; });
}

/** Disable the form's submit button while `work` runs. */
export async function whileBusy(form, work) {
  const buttons = form.querySelectorAll("button[type=submit]");
  buttons.forEach((button) => { button.disabled = true; });
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
    form.removeAttribute("aria-busy");
  }
}

const DATE_TIME = new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Paris" });
const DATE = new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeZone: "Europe/Paris" });

// « 1er janvier 2026 »: Intl writes « 1 janvier » (typography.js).
export function formatDateTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : formatWithOrdinalDay(DATE_TIME, date);
}

export function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : formatWithOrdinalDay(DATE, date);
}

export function formatNumber(value) {
  return new Intl.NumberFormat("fr-FR").format(value ?? 0);
}

/**
 * A form in a table row under the row of `button` (which controls it, aria-expanded): the pages' inline forms (a
 * refusal's reason, a declaration of loss). `buildForm()` makes the form; its « Annuler » (`formActions`) removes
 * the row and gives the focus back to `button`. Returns the form, or null when the row was open already (its first
 * field then takes the focus).
 */
export function openFormRow(button, rowId, buildForm) {
  const firstField = (root) => root.querySelector("input, textarea, select");
  const existing = document.getElementById(rowId);
  if (existing) {
    firstField(existing)?.focus();
    return null;
  }
  const form = buildForm();
  const above = button.closest("tr");
  const row = el("tr", { class: "app-row--form", id: rowId }, el("td", { colSpan: above.children.length }, form));
  form.querySelector("[data-action=annuler]")?.addEventListener("click", () => {
    row.remove();
    button.setAttribute("aria-expanded", "false");
    button.focus();
  });
  above.after(row);
  button.setAttribute("aria-expanded", "true");
  firstField(form)?.focus();
  return form;
}

/** The submit button and « Annuler » of an inline form (`openFormRow`). */
export function formActions(submit) {
  return el("ul", { class: "app-actions" },
    el("li", {}, el("button", { type: "submit", class: "fr-btn fr-btn--sm", ...submit })),
    el("li", {}, el("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--secondary", text: "Annuler",
      "data-action": "annuler" })));
}

/**
 * A secret shown once: `button` copies `field`'s value to the clipboard and says so in `status`; without a clipboard
 * (permission, old browser) the value is selected, to copy by hand.
 */
export function copyOnClick(button, field, status) {
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Secret copié dans le presse-papiers.";
    } catch {
      field.select();
      status.textContent = "La copie automatique n'est pas possible : le secret est sélectionné, copiez-le (Ctrl+C).";
    }
  });
}
