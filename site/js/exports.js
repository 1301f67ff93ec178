/**
 * « Télécharger (CSV) » and « Télécharger (XLSX) » under a list (DSFR download links, docs/exports.md): the API writes
 * the whole list (every page, with the filters shown) to a file and answers a short-lived link, which the browser
 * then follows. The links point at the export route; the click goes through the API client, which sends the session.
 * A national list's file is written in the background (the route answers its state, `status: "running"`): the page
 * reads that state until the file is ready, saying how many rows are written, then downloads it.
 */
import { api } from "./api.js";
import { el } from "./ui.js";

const FORMATS = [
  ["csv", "Télécharger (CSV)", "CSV – séparateur point-virgule, toute la liste"],
  ["xlsx", "Télécharger (XLSX)", "XLSX – tableur, toute la liste"],
];

/**
 * Put the download links after the table of `tbody`. `query()` gives the list's current filters (URLSearchParams or
 * an object); `path` is the list's export route (GET, returns {url, filename, rows}).
 */
export function addDownloads(tbody, path, query = () => ({})) {
  const frame = tbody.closest(".fr-table") || tbody.closest("table");
  const status = el("p", { class: "fr-hint-text fr-mb-0", role: "status", "aria-live": "polite" });
  const links = FORMATS.map(([format, label, detail]) => {
    const link = el("a", { class: "fr-link fr-link--download", href: `/api${path}?format=${format}` },
      label, el("span", { class: "fr-link__detail", text: detail }));
    link.addEventListener("click", (event) => {
      event.preventDefault();
      download(format, path, query(), status);
    });
    return el("li", {}, link);
  });
  const block = el("div", { class: "fr-mb-4w", "data-downloads": path },
    el("ul", { class: "fr-links-group fr-links-group--download" }, links), status);
  frame.after(block);
  return block;
}

async function download(format, path, filters, status) {
  const params = new URLSearchParams(filters);
  params.delete("cursor");
  for (const [name, value] of [...params]) if (!value) params.delete(name);
  params.set("format", format);
  status.textContent = "Préparation du fichier…";
  try {
    let file = await api.get(`${path}?${params}`);
    if (file.status) file = await follow(file, status); // a national list: written in the background
    if (file.status === "failed") {
      status.textContent = `Le fichier n'a pas pu être préparé : ${file.failure}`;
      return;
    }
    status.textContent = `${file.filename} : ${lines(file.rows)}${file.truncated
      ? " seulement (liste trop longue pour un seul fichier : précisez un statut ou un département)" : ""}.`;
    window.location.assign(file.url);
  } catch (error) {
    status.textContent = `Le fichier n'a pas pu être préparé : ${error.message}`;
  }
}

const lines = (count) => `${count.toLocaleString("fr-FR")} ligne${count > 1 ? "s" : ""}`;

// How often the state of a file written in the background is read again: soon at first (most are ready in a few
// seconds), then every 5 seconds.
const FOLLOW_DELAYS_MS = [1000, 2000, 3000, 5000];

/** Read the file's state (GET /admin/export-jobs/{id}) until it is ready or failed, saying how far it got. */
async function follow(job, status) {
  for (let round = 0; job.status === "running"; round += 1) {
    status.textContent = `Liste longue : le fichier est préparé en arrière-plan (${lines(job.rows)} écrites), `
      + "il se téléchargera quand il sera prêt. Vous pouvez continuer sur cette page.";
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_DELAYS_MS[Math.min(round, FOLLOW_DELAYS_MS.length - 1)]));
    job = await api.get(`/admin/export-jobs/${encodeURIComponent(job.id)}`);
  }
  return job;
}
