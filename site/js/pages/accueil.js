// Home page: after "Se déconnecter", say that the session is closed.
import { showAlert } from "../ui.js";

const params = new URLSearchParams(location.search);
if (params.get("deconnexion") === "1" || params.get("deconnexion") === "partout") {
  const everywhere = params.get("deconnexion") === "partout";
  showAlert(document.getElementById("deconnexion"), {
    type: "success",
    title: "Vous êtes déconnecté",
    message: everywhere
      ? "Toutes vos sessions sont fermées, sur cet appareil et sur tous les autres. À bientôt sur le service."
      : "Votre session est fermée. À bientôt sur le service.",
  });
  history.replaceState(null, "", "index.html");
}
