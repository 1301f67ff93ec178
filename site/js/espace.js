/**
 * The signed-in pages: check the session and the role (GET /me), show the page, wire "Se déconnecter".
 * Without a session: the sign-in page. With another role: that role's own home page.
 */
import { HOME_OF_ROLE, api, clearSession, forgetDrafts, getSession, goToLogin, restoreDrafts } from "./api.js";
import { de } from "./typography.js";

const NEVER = new Promise(() => {});

async function logOut(button, everywhere) {
  button.disabled = true;
  let providerLogout = null;
  try {
    if (!everywhere && getSession()?.proconnect) {
      // Opened with ProConnect: the session ends here, then the browser ends the ProConnect session too.
      providerLogout = (await api.post("/proconnect/logout", {}, { expireOn401: false })).logout_url;
    } else {
      // Everywhere: every session of the person ends, on every device (DELETE /sessions).
      await api.delete(everywhere ? "/sessions" : "/sessions/current", { expireOn401: false });
    }
  } catch {
    // Already ended, or the service is unreachable: the session is forgotten here anyway.
  }
  clearSession();
  forgetDrafts();
  location.assign(providerLogout || `index.html?deconnexion=${everywhere ? "partout" : "1"}`);
}

// Delegated: the DSFR copies the header's buttons into the mobile menu, without their listeners.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-action=logout], [data-action=logout-everywhere]");
  if (button) {
    event.preventDefault();
    logOut(button, button.dataset.action === "logout-everywhere");
  }
});

/**
 * Open a page reserved to `roles`; resolves with the person (GET /me) once the page is shown.
 * Elements marked data-me="first_name" etc. receive the matching text.
 */
export async function openSpace(roles) {
  if (!getSession()) return goToLogin(false);
  const me = await api.get("/me");
  if (!roles.includes(me.role)) {
    location.replace(HOME_OF_ROLE[me.role] || "index.html");
    return NEVER;
  }
  const values = {
    full_name: `${me.first_name} ${me.last_name}`,
    email: me.email,
    role_label: me.role_label || "",
    commune_name: me.commune?.name || "",
    // « de Bourg-en-Bresse », « d'Oyonnax », « du Havre »: what follows « Mairie » or « la mairie ».
    of_commune: me.commune?.name ? de(me.commune.name, { place: true }) : "",
    department_code: me.department_code || me.commune?.department_code || "",
  };
  for (const node of document.querySelectorAll("[data-me]")) {
    node.textContent = values[node.dataset.me] ?? "";
  }
  showPage();
  restoreDrafts();
  return me;
}

/** Replace the "Chargement…" line by the page's content. */
export function showPage() {
  document.querySelectorAll("[data-loading]").forEach((node) => { node.hidden = true; });
  document.querySelectorAll("[data-page]").forEach((node) => { node.hidden = false; });
}

/** The page could not be loaded (service unreachable...): say so where the content would be. */
export function showLoadError(error) {
  const box = document.querySelector("[data-loading]");
  if (!box) return;
  box.className = "fr-alert fr-alert--error";
  box.replaceChildren();
  const title = document.createElement("h2");
  title.className = "fr-alert__title";
  title.textContent = "La page n'a pas pu être chargée";
  const text = document.createElement("p");
  text.textContent = `${error.message} Rechargez la page pour réessayer.`;
  box.append(title, text);
  box.hidden = false;
  box.focus();
}
