/**
 * What the pages about the card registry share (the commune's « Cartes », the préfecture's registry): the statuses
 * with the labels the API gives, their badges, a card's name and its history rows.
 */
import { ROLE_LABELS } from "./commandes.js";
import { el, formatDate, formatDateTime } from "./ui.js";
import { de } from "./typography.js";

// The statuses and their labels: chalicelib/domain/cards.py, through js/constants.js (scripts/build_site.py).
export { CARD_STATUSES } from "./constants.js";

const BADGES = {
  en_fabrication: "fr-badge--info",
  livree: "fr-badge--new",
  remise: "fr-badge--success",
  a_restituer: "fr-badge--warning",
  restituee: "",
  detruite: "",
  perdue: "fr-badge--error",
  volee: "fr-badge--error",
};

export function cardBadge(card) {
  return el("p", { class: `fr-badge fr-badge--sm fr-badge--no-icon ${BADGES[card.status] ?? ""}`.trim(),
    text: card.status_label || card.status });
}

/** "Carte n° 2026-0000012 de Hélène MARCHAND". */
export function cardName(card) {
  return `carte n°\u00a0${card.number} ${de(card.first_name)} ${card.last_name}`;
}

/** "Remise le 7 décembre 2026, à Chantal Lefèvre (secrétaire générale de mairie)". */
export function handOverText(card) {
  if (!card.hand_over) return "";
  const { representative: who, at } = card.hand_over;
  return who ? `Remise le ${formatDate(at)} à ${who.first_name} ${who.last_name} (${who.quality})`
    : `Remise le ${formatDate(at)} au titulaire`;
}

export function cardHistoryRows(card) {
  return card.history.map((step) => el("tr", {},
    el("td", { text: formatDateTime(step.at) }),
    el("td", { text: step.status_label }),
    el("td", { text: ROLE_LABELS[step.by_role] || "Répertoire national des élus" }),
    el("td", { class: "fr-cell--multiline", text: step.note || "" })));
}
