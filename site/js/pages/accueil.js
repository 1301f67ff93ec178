// Home page: after "Se déconnecter", say that the session is closed.
import { showAlert } from "../ui.js";

const params = new URLSearchParams(location.search);
if (params.get("deconnexion") === "1") {
  showAlert(document.getElementById("deconnexion"), {
    type: "success",
    title: "Vous êtes déconnecté",
    message: "Votre session est fermée. À bientôt sur le service.",
  });
  history.replaceState(null, "", "index.html");
}
