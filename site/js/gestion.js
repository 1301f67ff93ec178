/**
 * What the back office's pages share: the list of card orders (card maker and préfecture,
 * GET /admin/orders?status=&department=, 50 a page, « Afficher plus de demandes » with the `next` cursor) and the
 * card maker's archive of print files.
 */
import { api } from "./api.js";
import { STATUSES, cardCount, orderName, statusBadge } from "./commandes.js";
import { addDownloads } from "./exports.js";
import { el, formatDateTime, hideAlert, showAlert } from "./ui.js";

export function statusLabel(status) {
  return (STATUSES.find(([code]) => code === status) || [status, status])[1];
}

export class AdminOrders {
  constructor({ tbody, more, count, alert, columns }) {
    this.tbody = tbody;
    this.more = more;
    this.count = count;
    this.alert = alert;
    this.columns = columns;
    this.query = null;
    this.next = null;
    this.shown = 0;
    more.addEventListener("click", () => this.loadMore());
    addDownloads(tbody, "/admin/exports/orders", () => this.query || {});
  }

  row(order) {
    const link = el("a", { href: `gestion-demande.html?id=${encodeURIComponent(order.id)}`, text: orderName(order) });
    return el("tr", { "data-demande": order.id },
      el("th", { scope: "row" }, order.commune_name || order.siren,
        el("span", { class: "fr-hint-text", text: `SIREN ${order.siren}` })),
      el("td", { text: order.department_code || "" }),
      el("td", {}, link),
      el("td", { text: cardCount(order) }),
      el("td", {}, statusBadge(order)),
      el("td", { text: formatDateTime(order.updated_at || order.created_at) }));
  }

  /** Show the orders of `status` (and `department`, for the card maker). */
  async show(status, department = "") {
    const query = new URLSearchParams();
    if (status) query.set("status", status);
    if (department) query.set("department", department);
    this.query = query;
    this.shown = 0;
    const page = await api.get(`/admin/orders?${query}`);
    this.render(page, false, status);
    return page;
  }

  async loadMore() {
    if (!this.next) return;
    this.more.disabled = true;
    try {
      const query = new URLSearchParams(this.query);
      query.set("cursor", this.next);
      const page = await api.get(`/admin/orders?${query}`);
      this.render(page, true, this.query.get("status"));
      if (page.items.length) this.tbody.querySelector(`tr[data-demande="${CSS.escape(page.items[0].id)}"] a`)?.focus();
    } catch (error) {
      showAlert(this.alert, { title: "Les demandes suivantes n'ont pas pu être chargées", message: error.message });
    } finally {
      this.more.disabled = false;
    }
  }

  render(page, append, status) {
    const rows = page.items.map((order) => this.row(order));
    if (append) this.tbody.append(...rows);
    else if (rows.length) this.tbody.replaceChildren(...rows);
    else {
      this.tbody.replaceChildren(el("tr", {}, el("td", { colSpan: this.columns,
        text: `Aucune demande « ${statusLabel(status)} ».` })));
    }
    this.shown += page.items.length;
    this.next = page.next;
    this.more.hidden = !page.next;
    const label = statusLabel(status);
    this.count.textContent = this.shown
      ? `${this.shown} demande${this.shown > 1 ? "s" : ""} « ${label} »${page.next ? " affichées (il y en a d'autres)" : ""}.`
      : `Aucune demande « ${label} ».`;
  }
}

/**
 * The card maker's print files in one archive (POST /admin/print-archives): one order's (`orderId`), or every order
 * in production's; `alert` then says what it holds and links to it.
 */
export async function printArchive(button, alert, orderId = null) {
  button.disabled = true;
  hideAlert(alert);
  try {
    const archive = await api.post("/admin/print-archives", orderId ? { order_id: orderId } : {});
    const notes = [];
    if (archive.missing_files.length) notes.push(`Fichiers manquants\u00a0: ${archive.missing_files.join(", ")}.`);
    if (archive.truncated) notes.push("D'autres demandes en production attendent\u00a0: elles seront dans la prochaine archive.");
    showAlert(alert, { type: notes.length ? "warning" : "success", title: "Archive prête",
      message: `${archive.orders} demande${archive.orders > 1 ? "s" : ""}, ${archive.cards} carte${archive.cards > 1 ? "s" : ""}, avec le manifeste. ${notes.join(" ")}`,
      extra: el("p", {}, el("a", { class: "fr-link fr-icon-download-line fr-link--icon-left", href: archive.url,
        text: "Télécharger l'archive (ZIP)" })) });
  } catch (error) {
    showAlert(alert, { title: "L'archive n'a pas pu être préparée", message: error.message });
  } finally {
    button.disabled = false;
  }
}
