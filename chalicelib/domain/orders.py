"""The card order lifecycle (docs/orders.md): statuses, their French labels, who may move an order where."""
from typing import NamedTuple

from .roles import COMMUNE, MANUFACTURER, PREFECTURE

BROUILLON = "brouillon"
EN_PREPARATION = "en_preparation"
ANNULEE = "annulee"
EN_PRODUCTION = "en_production"
REJETEE = "rejetee"
EN_LIVRAISON = "en_livraison"
LIVREE = "livree"
REMISE = "remise"

LABELS = {
    BROUILLON: "Brouillon",
    EN_PREPARATION: "En préparation",
    ANNULEE: "Annulée",
    EN_PRODUCTION: "En production",
    REJETEE: "Rejetée",
    EN_LIVRAISON: "En livraison",
    LIVREE: "Livrée en préfecture",
    REMISE: "Remise à l'élu",
}
STATUSES = tuple(LABELS)

# An order in one of these statuses no longer holds its officials: they may be ordered again.
FINAL = frozenset({ANNULEE, REJETEE, REMISE})


class Move(NamedTuple):
    to: str
    sources: frozenset
    role: str
    reason_required: bool = False


MOVES = {
    EN_PREPARATION: Move(EN_PREPARATION, frozenset({BROUILLON}), COMMUNE),
    ANNULEE: Move(ANNULEE, frozenset({BROUILLON, EN_PREPARATION}), COMMUNE),
    EN_PRODUCTION: Move(EN_PRODUCTION, frozenset({EN_PREPARATION}), MANUFACTURER),
    REJETEE: Move(REJETEE, frozenset({EN_PREPARATION, EN_PRODUCTION}), MANUFACTURER, reason_required=True),
    EN_LIVRAISON: Move(EN_LIVRAISON, frozenset({EN_PRODUCTION}), MANUFACTURER),
    LIVREE: Move(LIVREE, frozenset({EN_LIVRAISON}), PREFECTURE),
    REMISE: Move(REMISE, frozenset({LIVREE}), PREFECTURE),
}


class MoveRefused(ValueError):
    """``code`` is the API's stable code; the message is French."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def check_move(current: str, target: str, role: str, reason: str | None) -> Move:
    """The move if ``role`` may take an order from ``current`` to ``target``, else MoveRefused (nothing changes)."""
    move = MOVES.get(target)
    if move is None or move.role != role or current not in move.sources:
        raise MoveRefused(
            "invalid_transition",
            f"Impossible de passer une demande « {LABELS.get(current, current)} » à "
            f"« {LABELS.get(target, target)} »" + ("" if move is None or move.role == role else " avec votre profil")
            + ".",
        )
    if move.reason_required and not (reason or "").strip():
        raise MoveRefused("reason_required", "Indiquez le motif du rejet (par exemple « photo non conforme »).")
    return move


def allowed_moves(current: str, role: str) -> list[str]:
    return [target for target, move in MOVES.items() if move.role == role and current in move.sources]
