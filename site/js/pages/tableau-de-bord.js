// Dashboard of a commune agent: the commune, the "Accès rapide" box, the préfecture that receives the cards.
import { el } from "../ui.js";
import { openSpace, showLoadError } from "../espace.js";

function showCommune(commune) {
  document.getElementById("identite-commune").textContent =
    `SIREN ${commune.siren} · code INSEE ${commune.insee_code} · département ${commune.department_code}`;
  const address = document.getElementById("adresse-livraison");
  const place = commune.delivery_address;
  if (!place) {
    address.replaceChildren(el("p", {
      text: "L'adresse de la préfecture de votre département n'est pas encore connue du service. " +
        "Elle sera indiquée ici avant votre première demande.",
    }));
    return;
  }
  address.replaceChildren(
    el("strong", { text: place.name }), el("br"),
    place.address, el("br"),
    `${place.postal_code} ${place.city}`,
  );
}

openSpace(["commune"]).then((me) => showCommune(me.commune), showLoadError);
