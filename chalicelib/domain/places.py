"""The places an order involves, as the use cases read them: the commune that orders, the préfecture that receives."""
from typing import NamedTuple


class Commune(NamedTuple):
    siren: str
    insee_code: str
    name: str
    department_code: str
    agent_emails: frozenset  # where the commune's order notifications go

    def department_label(self, label: str | None) -> str:
        """How the card names the département: its label and code, or the code alone when the directory gave no
        label (the card never prints « None » or an empty pair of brackets)."""
        return department_on_card(label, self.department_code)


def department_on_card(label: str | None, department_code: str) -> str:
    label = (label or "").strip()
    return f"{label} ({department_code})" if label else department_code


class DeliveryAddress(NamedTuple):
    """Where a département's cards are delivered: its préfecture."""

    name: str
    address: str
    postal_code: str
    city: str

    def as_dict(self) -> dict:
        return self._asdict()
