/**
 * The portal's API client: JSON in and out, the session's bearer token kept in sessionStorage, every failure turned
 * into an ApiError {status, code, message, details}.
 *
 * A call made with a session that the API refuses (401) ends the session and opens the sign-in page with the notice
 * "Votre session a expiré, veuillez vous reconnecter." (connexion.html?expire=1), then comes back to the same page.
 */

const SESSION_KEY = "carteselus.session";
const NEVER = new Promise(() => {});

/** Home page of each role once signed in. */
export const HOME_OF_ROLE = Object.freeze({
  commune: "tableau-de-bord.html",
  manufacturer: "fabricant.html",
  prefecture: "prefecture.html",
});

export class ApiError extends Error {
  constructor(status, code, message, details = null, retryAfter = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

let configPromise = null;

function loadConfig() {
  if (!configPromise) {
    configPromise = fetch("config.json", { cache: "no-store", credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .catch(() => {
        configPromise = null; // try again on the next call
        throw new ApiError(0, "network_error", MESSAGES.network);
      });
  }
  return configPromise;
}

const MESSAGES = {
  network: "Le service est injoignable. Vérifiez votre connexion à Internet, puis réessayez.",
  server: "Le service rencontre un problème temporaire. Réessayez dans quelques instants.",
  forbidden: "Votre profil ne donne pas accès à cette fonction.",
  notFound: "L'élément demandé est introuvable.",
  other: "La demande n'a pas pu aboutir. Réessayez.",
};

function defaultMessage(status) {
  if (status >= 500) return MESSAGES.server;
  if (status === 403) return MESSAGES.forbidden;
  if (status === 404) return MESSAGES.notFound;
  return MESSAGES.other;
}

// --- session ---------------------------------------------------------------------------------------------------------

export function getSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY));
    return session && typeof session.token === "string" ? session : null;
  } catch {
    return null;
  }
}

export function saveSession({ token, role, expires_at: expiresAt, proconnect = false }) {
  // `proconnect`: opened with ProConnect, whose session « Se déconnecter » ends too (POST /proconnect/logout).
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token, role, expiresAt, proconnect: Boolean(proconnect) }));
}

/** Where a session goes once open: the second factor's enrolment first when the profile requires it. */
export function pageAfterSession(session, retour) {
  if (session.second_factor_enrolment_required) return "double-authentification.html";
  return pageAfterLogin(session.role, retour);
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** The current page, to come back to after signing in again (only a page of this site, never an address). */
function currentPage() {
  return (location.pathname.split("/").pop() || "index.html") + location.search;
}

/** Where to go after signing in: the page asked for by `retour` if it is one of ours, else the role's home. */
export function pageAfterLogin(role, retour) {
  const own = /^[a-z0-9-]+\.html(\?[A-Za-z0-9=&_.%-]*)?$/;
  const publicPages = /^(index|inscription|connexion|mot-de-passe|mot-de-passe-oublie|proconnect|double-authentification)\.html/;
  if (retour && own.test(retour) && !publicPages.test(retour)) return retour;
  return HOME_OF_ROLE[role] || "index.html";
}

// What was typed in the page's forms when the session ended, given back once the person has signed in again.
const DRAFTS_KEY = "carteselus.drafts";
const KEPT_TYPES = new Set(["text", "email", "search", "tel", "number", "date", "textarea", "select-one", "radio",
  "checkbox"]);

function saveDrafts() {
  const forms = {};
  for (const form of document.querySelectorAll("form[id]")) {
    const fields = {};
    for (const field of form.elements) {
      if (!field.name || !KEPT_TYPES.has(field.type)) continue;
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) fields[field.name] = field.value;
      } else if (field.value) {
        fields[field.name] = field.value;
      }
    }
    if (Object.keys(fields).length) forms[form.id] = fields;
  }
  if (Object.keys(forms).length) {
    sessionStorage.setItem(DRAFTS_KEY, JSON.stringify({ page: currentPage(), forms }));
  }
}

/** Forget what was kept (on "Se déconnecter"): the next person in this tab must not find it. */
export function forgetDrafts() {
  sessionStorage.removeItem(DRAFTS_KEY);
}

/** Put back what was typed on this page before the session expired (once). */
export function restoreDrafts() {
  let drafts = null;
  try {
    drafts = JSON.parse(sessionStorage.getItem(DRAFTS_KEY));
  } catch {
    drafts = null;
  }
  if (!drafts || drafts.page !== currentPage()) return;
  sessionStorage.removeItem(DRAFTS_KEY);
  for (const [formId, fields] of Object.entries(drafts.forms || {})) {
    const form = document.getElementById(formId);
    if (!form) continue;
    for (const [name, value] of Object.entries(fields)) {
      const field = form.elements.namedItem(name);
      if (!field) continue;
      if (field instanceof RadioNodeList) {
        for (const option of field) option.checked = option.value === value;
      } else if (field.type === "radio") {
        field.checked = field.value === value;
      } else if (field.type === "checkbox") {
        field.checked = true;
      } else {
        field.value = value;
      }
      // Pages react to "change" (e.g. a field shown for one choice only).
      (field instanceof RadioNodeList ? field[0] : field).dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
}

/** Leave for the sign-in page; `expired` shows the "session expirée" notice and keeps what was typed. */
export function goToLogin(expired) {
  if (expired) saveDrafts();
  clearSession();
  const query = new URLSearchParams();
  if (expired) query.set("expire", "1");
  query.set("retour", currentPage());
  location.assign(`connexion.html?${query}`);
  return NEVER;
}

// --- calls -----------------------------------------------------------------------------------------------------------

async function readJson(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Call the API. `auth` (default true) sends the session's token; without a session, or when the API answers 401, the
 * person is taken to the sign-in page (the returned promise then never settles). `expireOn401: false` makes a 401
 * an ordinary ApiError instead (used by "Se déconnecter").
 */
export async function request(method, path, { body, auth = true, expireOn401 = true } = {}) {
  const { api_url: apiUrl } = await loadConfig();
  const headers = { Accept: "application/json" };
  if (auth) {
    const session = getSession();
    if (!session) return goToLogin(false);
    headers.Authorization = `Bearer ${session.token}`;
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(apiUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "network_error", MESSAGES.network);
  }
  const data = await readJson(response);
  if (response.ok) return data;
  if (response.status === 401 && auth && expireOn401) return goToLogin(true);
  if (response.status === 403 && auth && data?.code === "second_factor_required"
      && !location.pathname.endsWith("/double-authentification.html")) {
    // A session that serves the second factor's enrolment only (an operator who has not enrolled yet).
    location.assign("double-authentification.html");
    return NEVER;
  }
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") || "", 10) || null;
  if (data && typeof data.code === "string") {
    throw new ApiError(response.status, data.code, data.message || defaultMessage(response.status),
      data.details ?? null, retryAfter);
  }
  throw new ApiError(response.status, `http_${response.status}`, defaultMessage(response.status), null, retryAfter);
}

export const api = {
  get: (path, options) => request("GET", path, options),
  post: (path, body, options) => request("POST", path, { ...options, body }),
  patch: (path, body, options) => request("PATCH", path, { ...options, body }),
  put: (path, body, options) => request("PUT", path, { ...options, body }),
  delete: (path, options) => request("DELETE", path, options),
};

// --- files -----------------------------------------------------------------------------------------------------------

const S3_MESSAGES = {
  EntityTooLarge: "Le fichier est trop volumineux.",
  EntityTooSmall: "Le fichier est vide.",
  AccessDenied: "L'autorisation d'envoi a expiré ou a été refusée. Recommencez l'envoi.",
  ExpiredToken: "L'autorisation d'envoi a expiré. Recommencez l'envoi.",
};

function uploadError(xhr) {
  let code = "";
  try {
    const xml = new DOMParser().parseFromString(xhr.responseText || "", "application/xml");
    code = xml.querySelector("Code")?.textContent || "";
  } catch {
    code = "";
  }
  const message = S3_MESSAGES[code] || `L'envoi du fichier a échoué (erreur ${xhr.status}). Réessayez.`;
  return new ApiError(xhr.status, "upload_failed", message, code ? { s3: code } : null);
}

/**
 * Send `file` with a presigned S3 POST `{url, fields}` (fields first, the file last, as S3 requires).
 * `onProgress(fraction)` follows the upload.
 */
export function uploadFile(upload, file, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields || {})) form.append(name, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(uploadError(xhr));
      }
    });
    const unreachable = () => reject(new ApiError(0, "upload_failed",
      "L'envoi du fichier a échoué\u00a0: le serveur de fichiers est injoignable. Réessayez."));
    xhr.addEventListener("error", unreachable);
    xhr.addEventListener("timeout", unreachable);
    xhr.addEventListener("abort", unreachable);
    xhr.send(form);
  });
}
