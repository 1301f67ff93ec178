/**
 * « Télécharger (CSV) » and « Télécharger (XLSX) » under a list (DSFR download links, docs/exports.md): the API writes
 * the whole list (every page, with the filters shown) to a file and answers a short-lived link, which the browser
 * then follows. The links point at the export route; the click goes through the API client, which sends the session.
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
    const file = await api.get(`${path}?${params}`);
    status.textContent = `${file.filename} : ${file.rows} ligne${file.rows > 1 ? "s" : ""}${file.truncated
      ? " seulement (liste trop longue pour un seul fichier : précisez un statut ou un département)" : ""}.`;
    window.location.assign(file.url);
  } catch (error) {
    status.textContent = `Le fichier n'a pas pu être préparé : ${error.message}`;
  }
}
