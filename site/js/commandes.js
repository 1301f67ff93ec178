/**
 * What the pages about card orders share, for the town hall and the back office: the status badge, the role names of
 * the history, the delivery address, the cards' and the history's table rows.
 */
import { CARD_PREVIEW_SIZE, ORDER_STATUSES } from "./constants.js";
import { el, formatDateTime } from "./ui.js";
import { de } from "./typography.js";

/** The statuses in their order of the lifecycle, with the labels the API gives (status_label): chalicelib/domain/
 * orders.py, through js/constants.js (written by scripts/build_site.py). */
export const STATUSES = ORDER_STATUSES;

const BADGES = {
  brouillon: "",
  en_preparation: "fr-badge--new",
  en_production: "fr-badge--info",
  en_livraison: "fr-badge--info",
  livree: "fr-badge--success",
  remise_partielle: "fr-badge--success",
  remise: "fr-badge--success",
  rejetee: "fr-badge--error",
  annulee: "",
};

/** Who made a move, as the history shows it. */
export const ROLE_LABELS = Object.freeze({
  commune: "Mairie",
  manufacturer: "Fabricant",
  prefecture: "Préfecture",
  portail: "Portail (automatique)",
});

export function statusBadge(item) {
  return el("p", { class: `fr-badge fr-badge--sm fr-badge--no-icon ${BADGES[item.status] ?? ""}`.trim(),
    text: item.status_label || item.status });
}

/** "Demande du 14 mai 2026 à 10:02": orders have no number a person would know, their date names them. */
export function orderName(order) {
  return `Demande du ${formatDateTime(order.created_at)}`;
}

export function cardCount(order) {
  const count = order.cards.length;
  return count > 1 ? `${count} cartes` : "1 carte";
}

export function personName(person) {
  return `${person.first_name} ${person.last_name}`;
}

/** "MARCHAND Hélène, FONTAINE Gaëlle". */
export function cardNames(order) {
  return order.cards.map((card) => `${card.last_name} ${card.first_name}`).join(", ");
}

/** The préfecture's address as a postal block, or a sentence when the service does not know it yet. */
export function addressBlock(address) {
  if (!address) {
    return el("p", { text: "L'adresse de la préfecture de votre département n'est pas encore connue du service." });
  }
  return el("address", {},
    el("strong", { text: address.name }), el("br"),
    address.address, el("br"),
    `${address.postal_code} ${address.city}`);
}

/** The order's alerts (mandate ended, card to return) in one warning box, or null. */
export function alertsBlock(order, { heading = "h2" } = {}) {
  const alerts = order.alerts || [];
  if (!alerts.length) return null;
  const names = new Map(order.cards.map((card) => [card.official_id, personName(card)]));
  return el("div", { class: "fr-alert fr-alert--warning fr-mb-4w" },
    el(heading, { class: "fr-alert__title", text: alerts.length > 1 ? "Points d'attention" : "Point d'attention" }),
    el("ul", {}, alerts.map((alert) => el("li", {},
      names.has(alert.official_id) ? `${names.get(alert.official_id)}\u00a0: ${alert.message}` : alert.message))));
}

/** A picture that opens in full size in a new window (card previews and final cards are wide). */
/** A card preview, as a link to it at full size; its box is reserved (width, height) while it loads, lazily. */
export function pictureLink(url, alt, className = "app-thumb") {
  return el("a", { href: url, target: "_blank", rel: "noopener", title: `${alt} — agrandir dans une nouvelle fenêtre`,
    class: "app-picture-link" }, el("img", { loading: "lazy", decoding: "async",
    width: CARD_PREVIEW_SIZE.width, height: CARD_PREVIEW_SIZE.height, src: url, alt, class: className }));
}

/** Rows of the history table: status, date, who, reason. */
export function historyRows(order) {
  return order.history.map((entry) => el("tr", {},
    el("td", {}, statusBadge(entry)),
    el("td", { text: formatDateTime(entry.at) }),
    el("td", { text: ROLE_LABELS[entry.by_role] || entry.by_role }),
    el("td", { class: "fr-cell--multiline", text: entry.reason || "—" }),
  ));
}

/** The reason of the last rejection, to show it where the status is. */
export function rejection(order) {
  const entry = [...order.history].reverse().find((item) => item.status === "rejetee");
  return entry?.reason || null;
}

/**
 * When the photos and cards of a closed order go, or went (they are kept 30 days after it closed): a fact for the
 * order's page, or null while the order is open.
 */
export function retentionFact(order) {
  if (order.photos_deleted_at) return ["Photos et cartes", `Supprimées le ${formatDateTime(order.photos_deleted_at)}`];
  if (order.photos_to_be_deleted_at) {
    return ["Photos et cartes", `Conservées jusqu'au ${formatDateTime(order.photos_to_be_deleted_at)}, puis supprimées`];
  }
  return null;
}

/** A card's preview cell: its picture, or why there is none. */
export function previewCell(order, card) {
  const name = personName(card);
  if (card.preview.status === "ready" && card.preview.url) {
    return el("td", {}, pictureLink(card.preview.url, `Prévisualisation de la carte ${de(name)}`));
  }
  return el("td", {}, el("span", { class: "app-muted fr-text--sm",
    text: order.photos_deleted_at ? "Supprimée" : "Indisponible" }));
}

export function sleep(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}
