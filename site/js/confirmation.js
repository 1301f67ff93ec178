/**
 * « Êtes-vous sûr ? » before a move that changes a card or an order: the DSFR modal of the page
 * (site-src/partials/confirmation.html), opened through the DSFR's own API so that its focus trap, Échap and the
 * return of the focus to the button that asked are the DSFR's. Resolves true on « Confirmer », false otherwise.
 */
import { $ } from "./ui.js";

export function confirmMove({ title, message, confirmLabel = "Confirmer" }) {
  const modal = $("#confirmation");
  modal.querySelector("[data-title]").textContent = title;
  modal.querySelector("[data-message]").textContent = message;
  const confirm = modal.querySelector("[data-confirm]");
  confirm.textContent = confirmLabel;
  return new Promise((resolve) => {
    let answered = false;
    const done = (value) => {
      if (answered) return;
      answered = true;
      confirm.removeEventListener("click", onConfirm);
      modal.removeEventListener("dsfr.conceal", onConceal);
      resolve(value);
    };
    const onConfirm = () => {
      done(true);
      window.dsfr(modal).modal.conceal();
    };
    const onConceal = () => done(false);
    confirm.addEventListener("click", onConfirm);
    modal.addEventListener("dsfr.conceal", onConceal);
    window.dsfr(modal).modal.disclose();
  });
}
