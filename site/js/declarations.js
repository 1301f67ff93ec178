/**
 * Officials a commune declares before the national directory (RNE) lists them, for the commune's pages (the list
 * « ELUS », the declaration page) and the préfecture's: the badges, the function labels, the check of the
 * procès-verbal before it is sent, and the wait for the service's own check of the file after it is sent.
 */
import { api } from "./api.js";
import { sleep } from "./commandes.js";
import { MAX_PROOF_BYTES } from "./constants.js";
import { el } from "./ui.js";

// The API's limit (proof_upload.max_bytes), said in the forms: chalicelib/services/declarations.py, via constants.js.
export { MAX_PROOF_BYTES };
const POLL_INTERVAL = 700;
const POLL_LIMIT = 60_000;

/** The four card functions, feminised as the API labels them (function_label); unknown sex: both forms. */
const FUNCTION_LABELS = {
  maire: { M: "Maire", F: "Maire", "": "Maire" },
  adjoint: { M: "Adjoint au maire", F: "Adjointe au maire", "": "Adjoint ou adjointe au maire" },
  maire_delegue: { M: "Maire délégué", F: "Maire déléguée", "": "Maire délégué ou déléguée" },
  maire_arrondissement: { M: "Maire d'arrondissement", F: "Maire d'arrondissement", "": "Maire d'arrondissement" },
};

export function functionLabel(code, sex = "") {
  return FUNCTION_LABELS[code]?.[sex] ?? FUNCTION_LABELS[code]?.[""] ?? code;
}

export const DECLARATION_BADGES = {
  awaiting_proof: "fr-badge--warning",
  pending: "fr-badge--info",
  validated: "fr-badge--success",
  refused: "fr-badge--error",
};

const STATUS_LABELS = {
  awaiting_proof: "En attente du procès-verbal",
  pending: "En attente de validation par la préfecture",
  validated: "Validée par la préfecture",
  refused: "Refusée par la préfecture",
};

/** « Déclaré par la commune » (« Déclarée » for a woman). */
export function declaredBadge(person, { small = true } = {}) {
  return el("p", { class: `fr-badge ${small ? "fr-badge--sm" : ""} fr-badge--purple-glycine`,
    text: `Déclaré${person.sex === "F" ? "e" : ""} par la commune` });
}

/** The declaration's status, as the API labels it. */
export function declarationBadge(declaration, { small = true } = {}) {
  return el("p", { class: `fr-badge ${small ? "fr-badge--sm" : ""} ${DECLARATION_BADGES[declaration.status] || ""}`,
    text: declaration.status_label || STATUS_LABELS[declaration.status] || declaration.status });
}

/** The sentence that says why the declaration is where it is, or null: the refusal's reason, the file refused. */
export function declarationReason(declaration) {
  if (!declaration?.reason) return null;
  if (declaration.status === "refused") return `Motif du refus\u00a0: ${declaration.reason}`;
  if (declaration.status === "awaiting_proof") return `Procès-verbal non accepté\u00a0: ${declaration.reason}`;
  return null;
}

/** Undecided: a new procès-verbal may still be sent. */
export function undecided(declaration) {
  return declaration?.status === "awaiting_proof" || declaration?.status === "pending";
}

/**
 * Why `file` cannot be the procès-verbal, or null: a PDF (its first 1,024 bytes hold « %PDF- », as the service checks)
 * of `maxBytes` at most. Checked before anything is sent, so that a wrong file never reaches the service.
 */
export async function proofProblem(file, maxBytes = MAX_PROOF_BYTES) {
  if (!file) return "Choisissez le fichier du procès-verbal d'élection.";
  if (file.size === 0) return "Le fichier est vide.";
  if (file.size > maxBytes) {
    return `Le fichier dépasse la taille maximale de ${Math.round(maxBytes / (1024 * 1024))}\u00a0Mo.`;
  }
  let head = "";
  try {
    head = new TextDecoder("latin1").decode(await file.slice(0, 1024).arrayBuffer());
  } catch {
    return "Le fichier n'a pas pu être lu. Choisissez-le à nouveau.";
  }
  if (!head.includes("%PDF-")) {
    return "Le fichier n'est pas un PDF\u00a0: envoyez le procès-verbal d'élection au format PDF (extension .pdf).";
  }
  return null;
}

/**
 * After a procès-verbal was sent: GET /officials/{id} until the service has checked it. The official then, with
 * `checked` false when the service said nothing within the wait (a proof sent while the declaration was already
 * pending leaves it pending: nothing tells that file's check apart).
 */
export async function waitForProof(officialId, before) {
  const started = Date.now();
  let current = null;
  while (Date.now() - started < POLL_LIMIT) {
    await sleep(POLL_INTERVAL);
    current = await api.get(`/officials/${encodeURIComponent(officialId)}`);
    const declaration = current.declaration || {};
    if (declaration.status !== "awaiting_proof" && declaration.status !== "pending") return { official: current, checked: true };
    if (before.status === "awaiting_proof" && declaration.status === "pending") return { official: current, checked: true };
    if (declaration.status === "awaiting_proof" && declaration.reason
      && (declaration.reason !== before.reason || before.status !== "awaiting_proof" || Date.now() - started > 10_000)) {
      return { official: current, checked: true };
    }
    if (before.status === "pending" && declaration.status === "pending" && Date.now() - started > 8_000) {
      return { official: current, checked: false };
    }
  }
  return { official: current, checked: false };
}
